namespace RpcGen;

/// <summary>Manages service references received from a peer (callbacks, capabilities).</summary>
public static class RpcReference
{
    /// <summary>
    /// Releases a reference the peer passed to this side: the peer drops its export once every
    /// reference is released, and later calls through <paramref name="proxy"/> fail. A proxy made by
    /// <c>GetService</c> is not a reference and is left alone. Generated proxies call this from <c>DisposeAsync</c>.
    /// </summary>
    public static ValueTask ReleaseAsync(object proxy) =>
        proxy is IRpcProxy { Channel: IRpcCapabilityChannel capability } ? capability.DisposeAsync() : default;

    /// <summary>Whether <paramref name="proxy"/> is a reference to an object the peer exported.</summary>
    public static bool IsRemoteReference(object proxy) => proxy is IRpcProxy { Channel: IRpcCapabilityChannel };
}
