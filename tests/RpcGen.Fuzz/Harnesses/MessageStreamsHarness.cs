using RpcGen.Fuzz.Seeds;
using RpcGen.Transport.Message;

namespace RpcGen.Fuzz.Harnesses;

/// <summary>
/// Stream and credit frames inside a live message connection: a real <see cref="RpcServer"/> with
/// streaming methods (<see cref="IFuzzStreams"/>: server, client and bidirectional streams) gets a
/// fresh in-memory connection per input, opened with a real client's hello (the checked-in prefix,
/// <c>prefix/message-streams.bin</c>), then the input's frames (the first byte cuts them into two
/// writes), then the peer's end of stream. Findings: the server does not close the connection, keep
/// it, or leave one of its calls running past a bound; an exception escapes onto the thread pool
/// (the process dies); the input costs more memory than the bound.
/// </summary>
internal sealed class MessageStreamsHarness : FuzzHarness
{
    // Created on first use: nothing from an instrumented assembly may run before the libFuzzer loop starts.
    private LiveMessageServer? _server;
    private byte[]? _hello;

    public override string Name => "message-streams";

    // The connection itself (pipes, reader state, a stream window of 16 KiB each way) is a fixed cost per input.
    public override long AllocationBound(int inputLength) => base.AllocationBound(inputLength) + (1L << 20);

    protected override long AllocatedBytes() => LiveMessageServer.AllocatedBytes();

    protected override void Parse(ReadOnlySpan<byte> input)
    {
        _server ??= new LiveMessageServer();
        _hello ??= LoadPrefix();
        var cut = input.IsEmpty ? 0 : Math.Min(input[0], input.Length - 1);
        var frames = input.IsEmpty ? default : input[1..];
        _server.Converse([.. _hello, .. frames[..cut]], frames[cut..]);
    }

    /// <summary>A real client through the recording relay calls every stream shape, one stream abandoned halfway.</summary>
    public override async Task<IReadOnlyList<FuzzSeed>> CaptureSeedsAsync()
    {
        var timeout = TimeSpan.FromSeconds(30);
        await using var server = new RpcServer();
        server.AddService<IFuzzStreams>(new FuzzStreamsService());
        await server.StartAsync("tcp://127.0.0.1:0");
        await using var relay = new CapturingRelay(CapturingRelay.EndPointOf(server.Addresses[0]));
        await using (var client = await RpcClient.ConnectAsync(relay.Address))
        {
            var remote = client.GetService<IFuzzStreams>();
            await foreach (var _ in remote.CountAsync(10).WithCancellation(CancellationToken.None))
            {
            }

            _ = await remote.SumAsync(Numbers(20)).WaitAsync(timeout);
            await foreach (var _ in remote.DoubleAsync(Numbers(5)))
            {
            }

            // Stopping early cancels the call: a cancel frame in the middle of a stream.
            await foreach (var item in remote.CountAsync(64))
            {
                if (item == 2)
                {
                    break;
                }
            }

            _ = await remote.SumAsync(Numbers(0)).WaitAsync(timeout);
        }

        await relay.DisposeAsync();
        var (hello, rest) = LiveMessageServer.SplitFirstFrame(relay.ClientToServer, RpcLimits.Default);
        return
        [
            new FuzzSeed("hello", hello, IsPrefix: true),
            // The leading 0 is the cut (none); see Parse.
            new FuzzSeed("client-after-hello", [0, .. rest]),
            new FuzzSeed("server-to-client", [0, .. LiveMessageServer.SplitFirstFrame(relay.ServerToClient, RpcLimits.Default).Remainder]),
        ];
    }

    private static async IAsyncEnumerable<int> Numbers(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return i;
        }
    }
}
