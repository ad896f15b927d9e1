namespace RpcGen;

/// <summary>Conveniences over <see cref="IRpcChannel"/>.</summary>
public static class RpcChannelExtensions
{
    /// <summary>Creates a proxy for the <c>[RpcService]</c> interface <typeparamref name="TService"/> over this channel.</summary>
    public static TService GetService<TService>(this IRpcChannel channel)
        where TService : class => RpcServiceRegistry.CreateProxy<TService>(channel);
}
