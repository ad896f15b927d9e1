using System.Buffers;
using RpcGen.Links;

namespace RpcGen.Runtime.Tests;

public class MemoryLinkTests
{
    [Fact]
    public async Task A_memory_listener_accepts_and_bytes_cross_both_ways()
    {
        var name = $"memory:{Guid.NewGuid():N}";
        await using var listener = RpcLinks.Listen(name);
        var accepting = listener.AcceptAsync().AsTask();
        await using var client = await RpcLinks.ConnectAsync(name);
        await using var server = (await accepting.WaitAsync(TimeSpan.FromSeconds(10)))!;

        await client.Output.WriteAsync(new byte[] { 1, 2, 3 });
        var read = await server.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new byte[] { 1, 2, 3 }, read.Buffer.ToArray());
        server.Input.AdvanceTo(read.Buffer.End);

        await server.Output.WriteAsync(new byte[] { 4 });
        var back = await client.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new byte[] { 4 }, back.Buffer.ToArray());
        client.Input.AdvanceTo(back.Buffer.End);
    }

    [Fact]
    public async Task Connecting_where_nothing_listens_fails_with_Disconnected()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => RpcLinks.ConnectAsync($"memory:{Guid.NewGuid():N}").AsTask());
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);

        var tcpError = await Assert.ThrowsAsync<RpcException>(() => RpcLinks.ConnectAsync("unix:/tmp/rpcgen-nothing-listens-here.sock").AsTask());
        Assert.Equal(RpcStatusCode.Disconnected, tcpError.StatusCode);
    }
}
