namespace RpcGen.Compression;

/// <summary>
/// Chooses the codec for the calls made in a scope, overriding the connection's default. The
/// server answers with the codec the request used, so this also picks the codec of the response.
/// </summary>
/// <example>
/// <code>
/// using (RpcCompressionScope.Use(RpcCompression.Zstd))
/// {
///     await files.UploadAsync("log.txt", stream);
/// }
/// </code>
/// </example>
public static class RpcCompressionScope
{
    private static readonly AsyncLocal<RpcCompression?> s_current = new();

    /// <summary>The codec chosen for calls made here, or null for the connection's default.</summary>
    public static RpcCompression? Current => s_current.Value;

    /// <summary>Uses <paramref name="codec"/> for calls made until the returned scope is disposed.</summary>
    public static Scope Use(RpcCompression codec)
    {
        if (!RpcCodecs.IsDefined(codec))
        {
            throw new ArgumentOutOfRangeException(nameof(codec), codec, "Not a compression codec.");
        }

        var previous = s_current.Value;
        s_current.Value = codec;
        return new Scope(previous);
    }

    /// <summary>Restores the enclosing choice when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly RpcCompression? _previous;

        internal Scope(RpcCompression? previous) => _previous = previous;

        /// <inheritdoc />
        public void Dispose() => s_current.Value = _previous;
    }
}
