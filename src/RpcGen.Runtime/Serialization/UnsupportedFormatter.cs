using MessagePack;

namespace RpcGen.Serialization;

/// <summary>
/// The formatter generated code uses for a type it cannot serialize (the analyzers report it at build
/// time, RPC0008/RPC0017): the rest of the contract still works, and a call that carries such a value
/// fails with <see cref="RpcStatusCode.InvalidPayload"/> and the reason, instead of losing data.
/// </summary>
/// <typeparam name="T">The unsupported type.</typeparam>
public sealed class UnsupportedFormatter<T> : IRpcFormatter<T>
{
    private readonly string _reason;

    /// <summary>Creates the formatter with the reason the generator gave.</summary>
    /// <param name="reason">Why <typeparamref name="T"/> cannot be serialized, e.g. <c>Acme.Order: delegates cannot be serialized</c>.</param>
    public UnsupportedFormatter(string reason) => _reason = reason;

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, T value) => throw Fail();

    /// <inheritdoc />
    public T Deserialize(ref MessagePackReader reader) => throw Fail();

    private RpcException Fail() => new(RpcStatusCode.InvalidPayload, "Cannot be serialized: " + _reason + ".");
}
