namespace RpcGen;

/// <summary>
/// Sends request headers with the calls made in a scope, and keeps the response trailers the last of
/// them got back. Like <see cref="RpcDeadline"/>, it flows with the async context, so it reaches the
/// channel through any generated proxy without extra parameters.
/// </summary>
/// <remarks>
/// A scope begun inside another starts with a copy of the outer scope's headers. Trailers go to the
/// scope that was current when the call started; they are replaced when each call ends (with an empty
/// set when the server sent none), so for calls running at once give each its own scope.
/// </remarks>
/// <example>
/// <code>
/// using var metadata = RpcMetadataScope.Begin().Add("tenant", "acme");
/// var reply = await greeter.SayHelloAsync(request);
/// string? version = metadata.ResponseTrailers.GetString("server-version");
/// </code>
/// </example>
public sealed class RpcMetadataScope : IDisposable, IRpcTrailerSink
{
    private static readonly AsyncLocal<RpcMetadataScope?> s_current = new();

    private readonly RpcMetadataScope? _previous;
    // Null until a call ended with trailers; replaced (not merged) by each call that ends.
    private RpcMetadata? _trailers;

    private RpcMetadataScope(RpcMetadataScope? previous)
    {
        _previous = previous;
        RequestHeaders = previous is null ? new RpcMetadata() : new RpcMetadata(previous.RequestHeaders);
    }

    /// <summary>The innermost scope of the current flow, or null outside any.</summary>
    public static RpcMetadataScope? Current => s_current.Value;

    /// <summary>Headers sent with every call made in this scope (change them freely between calls).</summary>
    public RpcMetadata RequestHeaders { get; }

    /// <summary>The trailers of the call that ended last in this scope (empty until one did, or when the server sent none).</summary>
    public RpcMetadata ResponseTrailers => Volatile.Read(ref _trailers) ?? new RpcMetadata();

    /// <summary>Begins a scope; dispose it to restore the enclosing one.</summary>
    public static RpcMetadataScope Begin()
    {
        var scope = new RpcMetadataScope(s_current.Value);
        s_current.Value = scope;
        return scope;
    }

    /// <summary>Adds a text header; returns this scope, for chaining.</summary>
    public RpcMetadataScope Add(string key, string value)
    {
        RequestHeaders.Add(key, value);
        return this;
    }

    /// <summary>Adds a binary header (key ending in <c>-bin</c>); returns this scope, for chaining.</summary>
    public RpcMetadataScope Add(string key, byte[] value)
    {
        RequestHeaders.Add(key, value);
        return this;
    }

    /// <summary>Restores the enclosing scope.</summary>
    public void Dispose() => s_current.Value = _previous;

    void IRpcTrailerSink.SetTrailers(RpcMetadata? trailers) => Volatile.Write(ref _trailers, trailers);
}
