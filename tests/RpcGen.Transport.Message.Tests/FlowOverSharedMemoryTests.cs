using System.Text;
using RpcGen.Transport.Flow;
using RpcGen.Transport.SharedMemory;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// The flow manager over shared memory: once <see cref="SharedMemoryLinks.Register"/> has run, a
/// manager listens on and dials <c>shm:PATH</c> as it does its built-in schemes, many flows share the
/// one shared-memory link, and RPC runs over <c>flow+shm:PATH</c> with only the address changed (the
/// whole scenario set runs over it too: <see cref="TransportFixture.Transports"/>).
/// </summary>
public sealed class FlowOverSharedMemoryTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    static FlowOverSharedMemoryTests()
    {
        SharedMemoryLinks.Register();
        FlowLinks.Register();
    }

    private static string NewAddress() => $"shm:{Path.Combine(Path.GetTempPath(), $"rpcgen-{Guid.NewGuid():N}.sock")}";

    [Fact]
    public async Task Flows_to_one_shm_address_share_one_shared_memory_link_and_carry_messages_both_ways()
    {
        await using var server = new FlowManager(new FlowManagerOptions { Name = "server" });
        var address = await server.ListenAsync(NewAddress());
        Assert.StartsWith("shm:", address, StringComparison.Ordinal);
        await using var client = new FlowManager(new FlowManagerOptions { Name = "client" });

        var flows = new List<Flow.Flow>();
        for (var i = 0; i < 3; i++)
        {
            var flow = await client.DialAsync(address).WaitAsync(Timeout);
            var text = $"flow {i}";
            await flow.WriteMessageAsync(Encoding.UTF8.GetBytes(text)).AsTask().WaitAsync(Timeout);
            var accepted = await server.AcceptAsync().AsTask().WaitAsync(Timeout);
            var message = await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal(text, Encoding.UTF8.GetString(message!));
            await accepted.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { Encoding.UTF8.GetBytes(text + " back") }).AsTask().WaitAsync(Timeout);
            Assert.Equal(text + " back", Encoding.UTF8.GetString((await flow.ReadMessageAsync().AsTask().WaitAsync(Timeout))!));
            flows.Add(flow);
        }

        // One link carries them all, and it is the shared-memory one.
        Assert.All(flows, flow => Assert.Same(flows[0].Connection, flow.Connection));
        Assert.Equal(1, client.ConnectionCount);
        Assert.Equal(1, server.ConnectionCount);
        Assert.StartsWith(address, flows[0].Connection.RemoteAddress, StringComparison.Ordinal);
        foreach (var flow in flows)
        {
            await flow.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_flow_larger_than_the_shared_memory_windows_arrives_whole()
    {
        // 1 MiB through 68 KiB windows: the flow's own flow control and the link's ring both turn over.
        await using var server = new FlowManager();
        var address = await server.ListenAsync(NewAddress());
        await using var client = new FlowManager();
        var payload = new byte[1 << 20];
        new Random(15).NextBytes(payload);

        var flow = await client.DialAsync(address).WaitAsync(Timeout);
        var sending = flow.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { payload }).AsTask();
        var accepted = await server.AcceptAsync().AsTask().WaitAsync(Timeout);
        var received = await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout);
        await sending.WaitAsync(Timeout);

        Assert.Equal(payload, received);
        await accepted.DisposeAsync();
        await flow.DisposeAsync();
    }

    [Fact]
    public async Task Rpc_over_flow_shm_changes_only_the_address()
    {
        var address = "flow+" + NewAddress();
        await using var server = new RpcServer();
        server.AddService<IScenarioService>(new ScenarioService());
        await server.StartAsync(address);
        Assert.StartsWith("flow+shm:", server.Addresses[0], StringComparison.Ordinal);
        await using var first = await RpcClient.ConnectAsync(server.Addresses[0]);
        await using var second = await RpcClient.ConnectAsync(server.Addresses[0]);

        Assert.Equal(7, await first.GetService<IScenarioService>().AddAsync(3, 4).AsTask().WaitAsync(Timeout));
        Assert.Equal(9, await second.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [InlineData("shm:", "shm")]
    [InlineData("tcp://127.0.0.1", "tcp")]
    public async Task An_address_without_its_path_or_port_is_refused_as_unresolvable(string address, string scheme)
    {
        // A registered scheme's address goes to its provider unparsed, but only when there is one to
        // give; a built-in scheme's is still parsed here, shm registered or not.
        await using var client = new FlowManager();
        var error = await Assert.ThrowsAsync<FlowException>(() => client.DialAsync(address).WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.ResolveFailed, error.Code);
        Assert.Contains($"not a {scheme} address", error.Message, StringComparison.Ordinal);
    }
}
