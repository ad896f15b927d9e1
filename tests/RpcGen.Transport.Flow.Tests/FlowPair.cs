using RpcGen.Links;
using RpcGen.Transport.Flow;

namespace RpcGen.Transport.Flow.Tests;

/// <summary>Two flow connections over a real loopback TCP link.</summary>
internal sealed class FlowPair : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private FlowPair(FlowConnection dialer, FlowConnection acceptor)
    {
        Dialer = dialer;
        Acceptor = acceptor;
    }

    public FlowConnection Dialer { get; }

    public FlowConnection Acceptor { get; }

    public static async Task<FlowPair> StartAsync(FlowConnectionOptions? dialer = null, FlowConnectionOptions? acceptor = null)
    {
        var (client, server) = await ConnectLinksAsync();
        var accepting = FlowConnection.AcceptAsync(server, acceptor);
        var dialing = FlowConnection.ConnectAsync(client, dialer);
        return new FlowPair(await dialing.WaitAsync(Timeout), await accepting.WaitAsync(Timeout));
    }

    public static async Task<(RpcLink Client, RpcLink Server)> ConnectLinksAsync()
    {
        await using var listener = RpcLinks.Listen("tcp://127.0.0.1:0");
        var accept = listener.AcceptAsync().AsTask();
        var client = await RpcLinks.ConnectAsync(listener.Address).AsTask().WaitAsync(Timeout);
        var server = await accept.WaitAsync(Timeout);
        return (client, server!);
    }

    public async ValueTask DisposeAsync()
    {
        await Dialer.DisposeAsync();
        await Acceptor.DisposeAsync();
    }
}

internal static class FlowTestExtensions
{
    public static async Task<byte[]> ReadAllAsync(this Flow flow)
    {
        var all = new MemoryStream();
        while (true)
        {
            var result = await flow.Input.ReadAsync().AsTask().WaitAsync(FlowPair.Timeout);
            foreach (var segment in result.Buffer)
            {
                all.Write(segment.Span);
            }

            flow.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return all.ToArray();
            }
        }
    }

    public static byte[] Pattern(int length, int seed = 0)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + seed);
        }

        return bytes;
    }
}
