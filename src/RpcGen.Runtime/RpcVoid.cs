namespace RpcGen;

/// <summary>The payload of a request with no parameters or a response with no value.</summary>
public readonly struct RpcVoid : IEquatable<RpcVoid>
{
    /// <summary>The only value.</summary>
    public static RpcVoid Value => default;

    /// <inheritdoc />
    public bool Equals(RpcVoid other) => true;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is RpcVoid;

    /// <inheritdoc />
    public override int GetHashCode() => 0;
}
