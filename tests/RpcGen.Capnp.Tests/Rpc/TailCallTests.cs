using static RpcGen.Capnp.Tests.Rpc.TestProtocol;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>
/// The peer answers one of our calls by tail-calling one of our own capabilities: a Call with
/// <c>sendResultsTo.yourself</c>, then a Return with <c>takeFromOtherQuestion</c> (what the C++
/// implementation does when it forwards a call back to its caller).
/// </summary>
public sealed class TailCallTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Results_sent_elsewhere_are_picked_up_even_if_the_peer_finishes_the_tail_call_first()
    {
        await using var peer = RawPeer.Create();
        var (echo, ourQuestion) = await StartEchoOnPeerAsync(peer);

        // The peer tail-calls our callBack(its callback 9, "tail") with the results kept here.
        await peer.SendCallAsync(1, 0, ServiceId, Methods.CallBack, resultsToYourself: true, capCount: 1,
            parameters: p =>
            {
                var s = p.InitStruct(0, 2);
                s.GetPointer(0).SetCapabilityIndex(0);
                s.WriteText(1, "tail");
            },
            capTable: caps =>
            {
                caps.GetStruct(0).WriteUInt16(RpcSchema.CapDescriptor.Which, RpcSchema.CapDescriptor.SenderHosted);
                caps.GetStruct(0).WriteUInt32(RpcSchema.CapDescriptor.Id, 9);
            });
        var notify = await peer.ReceiveAsync(RpcSchema.Message.Call);
        await peer.SendAsync(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, r =>
        {
            r.WriteUInt32(RpcSchema.Return.AnswerId, ourQuestion);
            r.WriteUInt16(RpcSchema.Return.Which, RpcSchema.Return.TakeFromOther);
            r.WriteUInt32(RpcSchema.Return.TakeFromOtherQuestion, 1);
        });
        await peer.SendFinishAsync(1);
        await peer.SendResultsAsync(notify.ReadUInt32(RpcSchema.Call.QuestionId), c => c.InitStruct(0, 1).WriteText(0, "from the tail"));

        Assert.Equal("from the tail", await echo.WaitAsync(Timeout));
        var elsewhere = await peer.ReceiveAsync(RpcSchema.Message.Return);
        while (elsewhere.ReadUInt32(RpcSchema.Return.AnswerId) != 1)
        {
            elsewhere = await peer.ReceiveAsync(RpcSchema.Message.Return);
        }

        Assert.Equal(RpcSchema.Return.ResultsSentElsewhere, elsewhere.ReadUInt16(RpcSchema.Return.Which));
    }

    [Fact]
    public async Task Question_waiting_for_results_sent_elsewhere_fails_when_the_connection_drops()
    {
        await using var peer = RawPeer.Create();
        var (echo, ourQuestion) = await StartEchoOnPeerAsync(peer);
        await peer.SendCallAsync(1, 0, ServiceId, Methods.Block, resultsToYourself: true);
        await peer.Service.BlockStarted.Task.WaitAsync(Timeout);
        await peer.SendAsync(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, r =>
        {
            r.WriteUInt32(RpcSchema.Return.AnswerId, ourQuestion);
            r.WriteUInt16(RpcSchema.Return.Which, RpcSchema.Return.TakeFromOther);
            r.WriteUInt32(RpcSchema.Return.TakeFromOtherQuestion, 1);
        });
        await peer.ReceiveAsync(RpcSchema.Message.Finish);

        peer.Connection.Abort("test: gone");

        var error = await Assert.ThrowsAsync<RpcException>(() => echo.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        await peer.Service.BlockCancelled.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Take_from_a_question_that_did_not_send_its_results_elsewhere_aborts()
    {
        await using var peer = RawPeer.Create();
        var (_, ourQuestion) = await StartEchoOnPeerAsync(peer);
        await peer.SendCallAsync(1, 0, ServiceId, Methods.Block);
        await peer.SendAsync(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, r =>
        {
            r.WriteUInt32(RpcSchema.Return.AnswerId, ourQuestion);
            r.WriteUInt16(RpcSchema.Return.Which, RpcSchema.Return.TakeFromOther);
            r.WriteUInt32(RpcSchema.Return.TakeFromOtherQuestion, 1);
        });

        Assert.Contains("takeFromOtherQuestion", await peer.ExpectAbortAsync());
    }

    /// <summary>The peer takes our bootstrap (export 0), we take the peer's (its export 5) and call echo on it.</summary>
    private static async Task<(Task<string?> Echo, uint QuestionId)> StartEchoOnPeerAsync(RawPeer peer)
    {
        await peer.SendBootstrapAsync(0);
        await peer.ReceiveAsync(RpcSchema.Message.Return);
        var remote = peer.Connection.Bootstrap();
        var bootstrap = await peer.ReceiveAsync(RpcSchema.Message.Bootstrap);
        await peer.SendResultsAsync(bootstrap.ReadUInt32(RpcSchema.Bootstrap.QuestionId), c => c.SetCapabilityIndex(0), capCount: 1, capTable: caps =>
        {
            caps.GetStruct(0).WriteUInt16(RpcSchema.CapDescriptor.Which, RpcSchema.CapDescriptor.SenderHosted);
            caps.GetStruct(0).WriteUInt32(RpcSchema.CapDescriptor.Id, 5);
        });
        var echo = EchoAsync(remote, "original");
        var call = await peer.ReceiveAsync(RpcSchema.Message.Call);
        return (echo.ContinueWith(t => { remote.Dispose(); return t; }).Unwrap(), call.ReadUInt32(RpcSchema.Call.QuestionId));
    }
}
