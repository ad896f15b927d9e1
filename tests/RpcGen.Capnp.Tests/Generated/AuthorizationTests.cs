using RpcGen.Security;

namespace RpcGen.Capnp.Tests.Generated;

/// <summary>A contract whose methods need authorization, served over Cap'n Proto.</summary>
[RpcService(0xd1f0_5e7a_0000_00a1)]
public interface IVault
{
    Task<string> PeekAsync();

    [RpcAuthorize("admins")]
    Task<string> OpenAsync();

    /// <summary>A second vault, passed back by reference: its calls are checked like the bootstrap's.</summary>
    Task<IVault> InnerAsync();
}

public sealed class Vault : IVault
{
    private int _peeks;
    private int _opens;

    public int Peeks => Volatile.Read(ref _peeks);

    public int Opens => Volatile.Read(ref _opens);

    public Vault? Inner { get; init; }

    public Task<string> PeekAsync()
    {
        Interlocked.Increment(ref _peeks);
        return Task.FromResult("peek");
    }

    public Task<string> OpenAsync()
    {
        Interlocked.Increment(ref _opens);
        return Task.FromResult("secret");
    }

    public Task<IVault> InnerAsync() => Task.FromResult<IVault>(Inner ?? throw new InvalidOperationException("No inner vault."));
}

/// <summary>
/// Authorization on the Cap'n Proto transport, over real sockets: <c>[RpcAuthorize]</c> policies and a
/// server-wide authorizer decide before the implementation runs, on the bootstrap and on capabilities
/// it returns; a denial reaches the .NET caller as <see cref="RpcStatusCode.PermissionDenied"/>.
/// </summary>
public sealed class AuthorizationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static string UnixAddress() => "unix:" + Path.Combine(Path.GetTempPath(), $"rpcgen-vault-{Guid.NewGuid():N}.sock");

    [Theory]
    [InlineData("tcp://127.0.0.1:0")]
    [InlineData("unix")]
    public async Task A_policy_that_says_no_denies_the_method_and_the_implementation_never_runs(string address)
    {
        var inner = new Vault();
        var vault = new Vault { Inner = inner };
        var options = new CapnpConnectionOptions
        {
            AuthorizationPolicies = new Dictionary<string, IRpcAuthorizer> { ["admins"] = RpcAuthorizer.From(_ => false, "not an admin") },
        };
        await using var server = CapnpServer.Listen<IVault>(address == "unix" ? UnixAddress() : address, vault, options);
        await using var client = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(Timeout);
        using var proxy = (IDisposable)client.Bootstrap<IVault>();
        var remote = (IVault)proxy;

        var denied = await Assert.ThrowsAsync<RpcException>(() => remote.OpenAsync().WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("not an admin", denied.Message);
        Assert.Equal(0, vault.Opens);

        // A method without the policy still runs; so does the denial on a capability passed by reference.
        Assert.Equal("peek", await remote.PeekAsync().WaitAsync(Timeout));
        using var innerProxy = (IDisposable)await remote.InnerAsync().WaitAsync(Timeout);
        var deniedInner = await Assert.ThrowsAsync<RpcException>(() => ((IVault)innerProxy).OpenAsync().WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.PermissionDenied, deniedInner.StatusCode);
        Assert.Equal(0, inner.Opens);
        Assert.Equal(1, vault.Peeks);
    }

    [Fact]
    public async Task A_policy_that_says_yes_lets_the_method_run()
    {
        var vault = new Vault();
        var asked = 0;
        var options = new CapnpConnectionOptions
        {
            AuthorizationPolicies = new Dictionary<string, IRpcAuthorizer>
            {
                ["admins"] = RpcAuthorizer.From(context =>
                {
                    Interlocked.Increment(ref asked);
                    return context.Method.Name == "OpenAsync";
                }),
            },
        };
        await using var server = CapnpServer.Listen<IVault>("tcp://127.0.0.1:0", vault, options);
        await using var client = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(Timeout);
        var remote = client.Bootstrap<IVault>();
        using var owned = (IDisposable)remote;

        Assert.Equal("secret", await remote.OpenAsync().WaitAsync(Timeout));
        Assert.Equal(1, vault.Opens);
        Assert.Equal(1, Volatile.Read(ref asked));
    }

    [Fact]
    public async Task A_policy_the_server_does_not_register_denies_the_method()
    {
        var vault = new Vault();
        var options = new CapnpConnectionOptions { Authorizer = RpcAuthorizer.From(_ => true) };
        await using var server = CapnpServer.Listen<IVault>("tcp://127.0.0.1:0", vault, options);
        await using var client = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(Timeout);
        var remote = client.Bootstrap<IVault>();
        using var owned = (IDisposable)remote;

        var denied = await Assert.ThrowsAsync<RpcException>(() => remote.OpenAsync().WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("'admins'", denied.Message);
        Assert.Equal(0, vault.Opens);
        Assert.Equal("peek", await remote.PeekAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_server_wide_authorizer_denies_by_the_peer()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SO_PEERCRED: the peer's process is known on Unix sockets of Linux and macOS
        }

        var vault = new Vault();
        RpcPeerIdentity? seen = null;
        var options = new CapnpConnectionOptions
        {
            // The client is this very process: a rule that refuses it must refuse every call.
            Authorizer = RpcAuthorizer.From(context =>
            {
                seen = context.PeerIdentity;
                return context.PeerIdentity?.ProcessId != Environment.ProcessId;
            }, "this process may not call"),
            AuthorizationPolicies = new Dictionary<string, IRpcAuthorizer> { ["admins"] = RpcAuthorizer.From(_ => true) },
        };
        await using var server = CapnpServer.Listen<IVault>(UnixAddress(), vault, options);
        await using var client = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(Timeout);
        var remote = client.Bootstrap<IVault>();
        using var owned = (IDisposable)remote;

        var deniedPeek = await Assert.ThrowsAsync<RpcException>(() => remote.PeekAsync().WaitAsync(Timeout));
        var deniedOpen = await Assert.ThrowsAsync<RpcException>(() => remote.OpenAsync().WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.PermissionDenied, deniedPeek.StatusCode);
        Assert.Equal(RpcStatusCode.PermissionDenied, deniedOpen.StatusCode);
        Assert.Contains("this process may not call", deniedPeek.Message);
        Assert.Equal(Environment.ProcessId, seen?.ProcessId);
        Assert.Equal(0, vault.Peeks);
        Assert.Equal(0, vault.Opens);
    }
}
