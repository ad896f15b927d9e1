using RpcGen.Links;

namespace RpcGen.Transport.Message.Tests;

/// <summary>A registered link provider carries the message protocol with only the address changed.</summary>
public class LinkProviderTests
{
    /// <summary>Opens <c>relay:NAME</c> as an in-memory link named <c>relay-NAME</c>, counting what it opened.</summary>
    private sealed class RelayProvider : IRpcLinkProvider
    {
        public int Connects;
        public int Listens;

        public IReadOnlyList<string> Schemes { get; } = ["relay"];

        public async ValueTask<RpcLink> ConnectAsync(string address, RpcLinkContext context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Connects);
            return await RpcLinks.ConnectAsync(Inner(address), context.Limits, cancellationToken);
        }

        public RpcLinkListener Listen(string address, RpcLinkContext context)
        {
            Interlocked.Increment(ref Listens);
            return RpcLinks.Listen(Inner(address), context.Limits);
        }

        private static string Inner(string address) => "memory:relay-" + address["relay:".Length..];
    }

    private sealed class OtherRelayProvider : IRpcLinkProvider
    {
        public IReadOnlyList<string> Schemes { get; } = ["relay"];

        public ValueTask<RpcLink> ConnectAsync(string address, RpcLinkContext context, CancellationToken cancellationToken) => throw new NotSupportedException();

        public RpcLinkListener Listen(string address, RpcLinkContext context) => throw new NotSupportedException();
    }

    private sealed class BuiltInProvider(string scheme) : IRpcLinkProvider
    {
        public IReadOnlyList<string> Schemes { get; } = [scheme];

        public ValueTask<RpcLink> ConnectAsync(string address, RpcLinkContext context, CancellationToken cancellationToken) => throw new NotSupportedException();

        public RpcLinkListener Listen(string address, RpcLinkContext context) => throw new NotSupportedException();
    }

    private static readonly RelayProvider s_relay = new();

    [Fact]
    public async Task Generated_proxies_call_over_a_registered_scheme()
    {
        RpcLinks.Register(s_relay);
        var listensBefore = s_relay.Listens;
        var connectsBefore = s_relay.Connects;
        await using var server = new RpcServer();
        server.AddService<IScenarioService>(new ScenarioService());
        var address = $"RELAY:{Guid.NewGuid():N}";
        await server.StartAsync(address);
        await using var client = await RpcClient.ConnectAsync(address).WaitAsync(TransportFixture.Timeout);

        var sum = await client.GetService<IScenarioService>().AddAsync(20, 22).AsTask().WaitAsync(TransportFixture.Timeout);

        Assert.Equal(42, sum);
        Assert.True(RpcLinks.IsKnownScheme("relay"));
        Assert.True(s_relay.Listens > listensBefore);
        Assert.True(s_relay.Connects > connectsBefore);
    }

    [Fact]
    public void A_scheme_cannot_be_taken_twice_or_over_a_built_in_one()
    {
        RpcLinks.Register(s_relay);
        RpcLinks.Register(s_relay);

        var taken = Assert.Throws<InvalidOperationException>(() => RpcLinks.Register(new OtherRelayProvider()));
        Assert.Contains(typeof(RelayProvider).FullName!, taken.Message);
        foreach (var scheme in new[] { "tcp", "TLS", "unix", "tls+unix", "memory" })
        {
            Assert.Throws<InvalidOperationException>(() => RpcLinks.Register(new BuiltInProvider(scheme)));
        }
    }

    [Fact]
    public async Task An_unregistered_scheme_names_the_way_to_register_one()
    {
        var error = await Assert.ThrowsAsync<FormatException>(async () => await RpcLinks.ConnectAsync($"nowhere-{Guid.NewGuid():N}:x"));

        Assert.Contains("RpcLinks.Register", error.Message);
    }
}
