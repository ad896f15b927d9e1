using RpcGen;

namespace Secure;

/// <summary>A service only authenticated callers reach; one method needs the "owner" policy as well.</summary>
[RpcService]
public interface IVault
{
    /// <summary>Who the server says the caller is.</summary>
    Task<string> WhoAmIAsync();

    /// <summary>Only the vault's owner may open it.</summary>
    [RpcAuthorize("owner")]
    Task<string> OpenAsync();
}

public sealed class Vault : IVault
{
    public Task<string> WhoAmIAsync()
    {
        var peer = RpcCallContext.Current?.PeerIdentity;
        return Task.FromResult($"{peer?.Name} <{peer?.Email}> {peer?.Fingerprint}");
    }

    public Task<string> OpenAsync() => Task.FromResult("the gold");
}
