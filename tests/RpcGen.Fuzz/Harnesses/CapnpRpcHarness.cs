using System.Buffers;
using RpcGen.Capnp;
using RpcGen.Fuzz.Seeds;
using RpcGen.Links;

namespace RpcGen.Fuzz.Harnesses;

/// <summary>
/// Cap'n Proto RPC dispatch against a live connection state. Each input gets a fresh server-side
/// <see cref="CapnpConnection"/> (loops not started, handlers inline, so one input runs the same way
/// each time) serving an <see cref="IFuzzVat"/> bootstrap; the connection first takes the checked-in
/// prefix, the client half of a real conversation (<c>prefix/capnp-rpc.bin</c>): bootstrap, a child
/// object passed back (exports), a visitor held and another being called back (imports, and a
/// question of ours the peer has not answered), and a call left waiting (an open answer). Then it
/// takes the input: more messages from that peer (the first byte cuts them into two segments).
/// A finding is anything that escapes the connection, an abort caused by anything other than an
/// <see cref="RpcException"/> (a bad id, a broken rule, a malformed message are all RpcExceptions;
/// an <c>InvalidOperationException</c> from a reference released twice is a bug), or tables past
/// their limits.
/// </summary>
internal sealed class CapnpRpcHarness : FuzzHarness
{
    private const int MaxAnswers = 64;

    // Read on first use: nothing from an instrumented assembly may run before the libFuzzer loop starts.
    private byte[]? _prefix;

    public override string Name => "capnp-rpc";

    protected override void Parse(ReadOnlySpan<byte> input)
    {
        _prefix ??= LoadPrefix();
        var (peer, ours) = RpcLinks.CreateMemoryPair("capnp-rpc");
        using var bootstrap = CapnpServiceRegistry.ToCapability<IFuzzVat>(new FuzzVatService("root"));
        var connection = CapnpConnection.CreateUnstarted(ours, new CapnpConnectionOptions
        {
            Bootstrap = bootstrap,
            HandlerExecution = RpcHandlerExecution.Inline,
            MaxAnswers = MaxAnswers,
        });
        try
        {
            var prefix = new ReadOnlySequence<byte>(_prefix);
            connection.ReceiveFrames(ref prefix);
            var before = connection.GetStats();
            FuzzCheck.That(connection.DisconnectReason is null && prefix.IsEmpty, $"the prefix is a whole, valid conversation (ended with: {connection.DisconnectReason?.Message})");
            FuzzCheck.That(before is { Answers: > 0, Exports: > 1, Imports: > 0, Questions: > 0 }, $"the prefix populates every table ({before})");

            var rest = StreamOf(input);
            connection.ReceiveFrames(ref rest);
            if (connection.DisconnectReason is { } reason)
            {
                FuzzCheck.That(reason.StatusCode == RpcStatusCode.Disconnected, $"an aborted connection says Disconnected, not {reason.StatusCode}");
                FuzzCheck.That(reason.InnerException is null or RpcException, $"the abort is a documented rejection, not {reason.InnerException}");
                return;
            }

            var after = connection.GetStats();
            FuzzCheck.That(after.Answers <= MaxAnswers, $"answers stay within MaxAnswers ({after})");
        }
        finally
        {
            connection.Abort("The fuzz input ended.");
            FuzzCheck.That(connection.GetStats() is { Questions: 0, Answers: 0, Imports: 0, Exports: 0, Embargoes: 0 }, $"an aborted connection empties its tables ({connection.GetStats()})");
            peer.Abort();
        }
    }

    /// <summary>
    /// Captures a real client (a <see cref="CapnpConnection"/> through the recording relay) talking to
    /// a real server: the first part, up to a state with every table populated, is the prefix; what the
    /// client says after it (answering the callback, cancelling the wait, more calls, releases) is the seed.
    /// </summary>
    public override async Task<IReadOnlyList<FuzzSeed>> CaptureSeedsAsync()
    {
        var timeout = TimeSpan.FromSeconds(30);
        await using var server = CapnpServer.Listen<IFuzzVat>("tcp://127.0.0.1:0", new FuzzVatService("root"));
        await using var relay = new CapturingRelay(CapturingRelay.EndPointOf(server.Address));
        int split;
        await using (var connection = await CapnpConnection.ConnectAsync(relay.Address))
        {
            var root = connection.Bootstrap<IFuzzVat>();
            var child = await root.ChildAsync("child").WaitAsync(timeout);
            _ = await child.NameAsync().WaitAsync(timeout);
            var held = new FuzzVisitor(holdCalls: false);
            await root.HoldAsync(held).WaitAsync(timeout);

            // No callback is answered inside the prefix: the server's handler would go on on the thread
            // pool, and the replay would no longer be the same for every input.
            using var cancel = new CancellationTokenSource();
            var waiting = root.WaitAsync(cancel.Token);
            var slow = new FuzzVisitor(holdCalls: true);
            var visiting = root.VisitAsync(slow, 1);
            await slow.Called.WaitAsync(timeout);
            // A round trip after the others: when it is back, the server has read everything before it.
            _ = await root.NameAsync().WaitAsync(timeout);
            split = relay.ClientToServer.Length;

            slow.Release();
            _ = await visiting.WaitAsync(timeout);
            cancel.Cancel();
            try
            {
                await waiting.WaitAsync(timeout);
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException)
            {
                // Cancelled, as asked: the Finish that cancels it is what the capture wants.
            }

            _ = await root.VisitAsync(held, 2).WaitAsync(timeout);
            var second = await child.ChildAsync("grandchild").WaitAsync(timeout);
            _ = await second.NameAsync().WaitAsync(timeout);
        }

        await relay.DisposeAsync();
        var toServer = relay.ClientToServer;
        return
        [
            new FuzzSeed("prefix", toServer[..split], IsPrefix: true),
            // The leading 0 is the segment cut (none); see Parse.
            new FuzzSeed("client-after-prefix", [0, .. toServer[split..]]),
            new FuzzSeed("server-to-client", [0, .. relay.ServerToClient]),
        ];
    }
}
