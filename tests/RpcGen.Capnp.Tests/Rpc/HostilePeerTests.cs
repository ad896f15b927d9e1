using System.Buffers.Binary;
using static RpcGen.Capnp.Tests.Rpc.TestProtocol;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>
/// A peer that breaks the protocol: each violation aborts that connection with an <c>abort</c>
/// message whose reason names the problem; unknown message kinds are answered <c>unimplemented</c>.
/// </summary>
public sealed class HostilePeerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Unknown_message_kind_is_echoed_as_unimplemented_and_the_connection_goes_on()
    {
        await using var peer = RawPeer.Create();

        await peer.SendAsync(RpcSchema.Message.Join, 1, 2, join => join.WriteUInt32(0, 77));
        var echoed = await peer.ReceiveAsync(RpcSchema.Message.Unimplemented);
        await peer.SendAsync(99, 1, 0, _ => { });
        var echoedUnknown = await peer.ReceiveAsync(RpcSchema.Message.Unimplemented);

        Assert.Equal(RpcSchema.Message.Join, echoed.ReadUInt16(RpcSchema.Message.Which));
        Assert.Equal(77u, echoed.ReadStruct(RpcSchema.Message.Body).ReadUInt32(0));
        Assert.Equal(99, echoedUnknown.ReadUInt16(RpcSchema.Message.Which));
        await peer.SendBootstrapAsync(0);
        var ret = await peer.ReceiveAsync(RpcSchema.Message.Return);
        Assert.Equal(RpcSchema.Return.Results, ret.ReadUInt16(RpcSchema.Return.Which));
    }

    [Fact]
    public async Task Call_without_params_reads_as_empty_params_and_the_connection_goes_on()
    {
        // Found by the capnp-rpc fuzz harness: a call whose params pointer is null made HandleCall
        // throw NullReferenceException, so the connection aborted as "malformed" and kept a reference
        // to the call's target. A null struct pointer reads as the default struct: empty params.
        await using var peer = RawPeer.Create();
        await peer.SendBootstrapAsync(0);
        await peer.ReceiveAsync(RpcSchema.Message.Return);

        await SendEchoToBootstrapAsync(peer, questionId: 1, writeParams: null);
        var (kind, ret) = await peer.ReceiveAsync();

        Assert.Equal(RpcSchema.Message.Return, kind);
        Assert.Equal(1u, ret.ReadUInt32(RpcSchema.Return.AnswerId));
        Assert.Equal(RpcSchema.Return.Results, ret.ReadUInt16(RpcSchema.Return.Which));
        Assert.Null(peer.Connection.DisconnectReason);
    }

    [Fact]
    public async Task Cap_table_of_more_zero_sized_descriptors_than_the_message_has_words_aborts()
    {
        // Found by the capnp-rpc fuzz harness: a cap table of zero-sized elements claims a million
        // descriptors in a few bytes, and the connection allocated a table for all of them.
        await using var peer = RawPeer.Create();
        await peer.SendBootstrapAsync(0);
        await peer.ReceiveAsync(RpcSchema.Message.Return);

        await SendEchoToBootstrapAsync(peer, questionId: 1, writeParams: call =>
            call.InitStruct(RpcSchema.Call.Params, RpcSchema.Payload.DataWords, RpcSchema.Payload.Pointers)
                .InitStructList(RpcSchema.Payload.CapTable, 1_000_000, 0, 0));

        Assert.Contains("claims 1000000 descriptors", await peer.ExpectAbortAsync());
    }

    // A call of Echo on the bootstrap (export 0) whose params only writeParams writes (none when null),
    // where RawPeer.CallFrame always writes a well-formed payload.
    private static Task SendEchoToBootstrapAsync(RawPeer peer, uint questionId, Action<StructBuilder>? writeParams) =>
        peer.SendAsync(RpcSchema.Message.Call, RpcSchema.Call.DataWords, RpcSchema.Call.Pointers, call =>
        {
            call.WriteUInt32(RpcSchema.Call.QuestionId, questionId);
            call.WriteUInt64(RpcSchema.Call.InterfaceId, ServiceId);
            call.WriteUInt16(RpcSchema.Call.MethodId, Methods.Echo);
            call.InitStruct(RpcSchema.Call.Target, RpcSchema.MessageTarget.DataWords, RpcSchema.MessageTarget.Pointers)
                .WriteUInt32(RpcSchema.MessageTarget.ImportedCap, 0);
            writeParams?.Invoke(call);
        });

    [Fact]
    public async Task Call_to_an_export_the_peer_does_not_hold_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendCallAsync(0, exportId: 5, ServiceId, Methods.Echo);
        Assert.Contains("export 5", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Call_pipelined_on_an_unknown_question_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendCallAsync(0, 0, ServiceId, Methods.Echo, promisedQuestion: 9);
        Assert.Contains("question 9", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Double_finish_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendBootstrapAsync(0);
        await peer.ReceiveAsync(RpcSchema.Message.Return);

        await peer.SendFinishAsync(0);
        await peer.SendFinishAsync(0);

        Assert.Contains("Finish for question 0", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Finish_for_a_question_never_asked_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendFinishAsync(3);
        Assert.Contains("question 3", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Release_of_more_references_than_were_sent_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendBootstrapAsync(0);
        await peer.ReceiveAsync(RpcSchema.Message.Return);

        await peer.SendReleaseAsync(0, 2);

        Assert.Contains("holds only 1", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Release_of_an_export_id_never_sent_aborts()
    {
        await using var peer = RawPeer.Create();

        await peer.SendReleaseAsync(7, 1);

        Assert.Contains("export 7, which the peer does not hold", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Double_release_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendBootstrapAsync(0);
        await peer.ReceiveAsync(RpcSchema.Message.Return);

        await peer.SendReleaseAsync(0, 1);
        await peer.SendReleaseAsync(0, 1);

        Assert.Contains("export 0", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Return_for_a_question_never_asked_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendAsync(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, r =>
        {
            r.WriteUInt32(RpcSchema.Return.AnswerId, 4);
            r.WriteUInt16(RpcSchema.Return.Which, RpcSchema.Return.Canceled);
        });
        Assert.Contains("question 4", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Reused_question_id_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendBootstrapAsync(0);
        await peer.SendBootstrapAsync(0);
        Assert.Contains("reused question id 0", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Disembargo_for_an_embargo_never_asked_for_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendAsync(RpcSchema.Message.Disembargo, RpcSchema.Disembargo.DataWords, RpcSchema.Disembargo.Pointers, d =>
        {
            d.InitStruct(RpcSchema.Disembargo.Target, 1, 1);
            d.WriteUInt16(RpcSchema.Disembargo.Which, RpcSchema.Disembargo.ReceiverLoopback);
            d.WriteUInt32(RpcSchema.Disembargo.EmbargoId, 12);
        });
        Assert.Contains("embargo 12", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Resolve_for_an_import_that_was_not_a_promise_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendBootstrapAsync(0);
        await peer.ReceiveAsync(RpcSchema.Message.Return);
        await peer.SendCallAsync(1, 0, ServiceId, Methods.Hold, p => p.InitStruct(0, 1).GetPointer(0).SetCapabilityIndex(0), capCount: 1, capTable: caps =>
        {
            caps.GetStruct(0).WriteUInt16(RpcSchema.CapDescriptor.Which, RpcSchema.CapDescriptor.SenderHosted);
            caps.GetStruct(0).WriteUInt32(RpcSchema.CapDescriptor.Id, 7);
        });
        await peer.ReceiveAsync(RpcSchema.Message.Return);

        await peer.SendAsync(RpcSchema.Message.Resolve, RpcSchema.Resolve.DataWords, RpcSchema.Resolve.Pointers, r =>
        {
            r.WriteUInt32(RpcSchema.Resolve.PromiseId, 7);
            r.WriteUInt16(RpcSchema.Resolve.Which, RpcSchema.Resolve.Exception);
            r.InitStruct(RpcSchema.Resolve.Body, RpcSchema.Exception.DataWords, RpcSchema.Exception.Pointers).WriteText(0, "nope");
        });

        Assert.Contains("not sent as a promise", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Too_many_outstanding_calls_abort()
    {
        await using var peer = RawPeer.Create(new CapnpConnectionOptions { MaxAnswers = 3 });
        await peer.SendBootstrapAsync(0);
        await peer.ReceiveAsync(RpcSchema.Message.Return);
        for (uint q = 1; q <= 3; q++)
        {
            await peer.SendCallAsync(q, 0, ServiceId, Methods.Block);
        }

        Assert.Contains("more than 3 calls", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Malformed_message_aborts_with_the_decode_error()
    {
        await using var peer = RawPeer.Create();
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 1); // one segment of one word
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), 0x0001_0001_0000_0040); // root struct far beyond the segment
        await peer.SendRawAsync(bytes);
        Assert.Contains("outside its segment", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Frame_declaring_too_many_segments_aborts()
    {
        await using var peer = RawPeer.Create();
        await peer.SendRawAsync([0xff, 0xff, 0x00, 0x00]);
        Assert.Contains("segments", await peer.ExpectAbortAsync());
    }

    [Fact]
    public async Task Calls_in_flight_fail_and_the_server_goes_on_when_one_connection_is_aborted()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rpcgen-capnp-{Guid.NewGuid():N}.sock");
        var service = new TestServiceServer();
        using var bootstrap = Capability.FromServer(service);
        await using var server = CapnpServer.Listen("unix:" + path, bootstrap);
        await using var good = await CapnpConnection.ConnectAsync(server.Address);
        await using var bad = await CapnpConnection.ConnectAsync(server.Address);
        using var goodService = good.Bootstrap();
        using var badService = bad.Bootstrap();
        Assert.Equal("ok", await EchoAsync(goodService, "ok").WaitAsync(Timeout));
        using var blocked = Block(badService);
        await service.BlockStarted.Task.WaitAsync(Timeout);

        // The server side of "bad" is aborted as if its peer had broken the protocol.
        // It is the one with a call in flight, once the good one's answers are all finished.
        var connections = await EventuallyAsync(
            () => Task.FromResult(server.Connections),
            c => c.Count == 2 && c.Count(x => x.GetStats().Answers > 0) == 1);
        connections.Single(c => c.GetStats().Answers > 0).Abort("test: protocol violation");

        var error = await Assert.ThrowsAsync<RpcException>(() => blocked.Response.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains("test: protocol violation", (await bad.Completion.WaitAsync(Timeout).ContinueWith(_ => bad.DisconnectReason))!.Message);
        await service.BlockCancelled.Task.WaitAsync(Timeout);
        Assert.Equal("still ok", await EchoAsync(goodService, "still ok").WaitAsync(Timeout));
    }
}
