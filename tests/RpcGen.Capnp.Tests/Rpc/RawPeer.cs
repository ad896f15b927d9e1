using RpcGen.Links;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>
/// A peer that writes rpc.capnp messages by hand and reads what comes back, to play a hostile or
/// broken counterpart to a <see cref="CapnpConnection"/>.
/// </summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly RpcLink _link;
    private readonly CapnpFrameReader _frames = new();

    private RawPeer(RpcLink link, CapnpConnection connection, TestServiceServer service)
    {
        _link = link;
        Connection = connection;
        Service = service;
    }

    /// <summary>Our implementation, serving a <see cref="TestServiceServer"/> as bootstrap.</summary>
    public CapnpConnection Connection { get; }

    public TestServiceServer Service { get; }

    public static RawPeer Create(CapnpConnectionOptions? options = null)
    {
        var (peerLink, ourLink) = RpcLinks.CreateMemoryPair();
        var service = new TestServiceServer();
        using var bootstrap = Capability.FromServer(service);
        var connection = CapnpConnection.Start(ourLink, new CapnpConnectionOptions
        {
            Bootstrap = bootstrap,
            MaxAnswers = options?.MaxAnswers ?? 16 * 1024,
            ReaderOptions = options?.ReaderOptions ?? CapnpReaderOptions.Default,
        });
        return new RawPeer(peerLink, connection, service);
    }

    public Task SendAsync(ushort which, ushort dataWords, ushort pointers, Action<StructBuilder> body) =>
        SendRawAsync(Frame(which, dataWords, pointers, body));

    /// <summary>One framed rpc.capnp message of kind <paramref name="which"/>; <paramref name="body"/> writes its body.</summary>
    public static byte[] Frame(ushort which, ushort dataWords, ushort pointers, Action<StructBuilder> body)
    {
        using var builder = new CapnpMessageBuilder();
        var message = builder.InitRoot(RpcSchema.Message.DataWords, RpcSchema.Message.Pointers);
        message.WriteUInt16(RpcSchema.Message.Which, which);
        body(message.InitStruct(RpcSchema.Message.Body, dataWords, pointers));
        return CapnpFraming.ToArray(builder);
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        await _link.Output.WriteAsync(bytes);
    }

    public Task SendBootstrapAsync(uint questionId) => SendRawAsync(BootstrapFrame(questionId));

    public static byte[] BootstrapFrame(uint questionId) =>
        Frame(RpcSchema.Message.Bootstrap, RpcSchema.Bootstrap.DataWords, RpcSchema.Bootstrap.Pointers, b => b.WriteUInt32(RpcSchema.Bootstrap.QuestionId, questionId));

    /// <summary>A call to our export <paramref name="exportId"/>, or to a promised answer when <paramref name="promisedQuestion"/> is set.</summary>
    public Task SendCallAsync(uint questionId, uint exportId, ulong interfaceId, ushort methodId, Action<PointerBuilder>? parameters = null, uint? promisedQuestion = null, Action<ListBuilder>? capTable = null, int capCount = 0, bool resultsToYourself = false) =>
        SendRawAsync(CallFrame(questionId, exportId, interfaceId, methodId, parameters, promisedQuestion, capTable, capCount, resultsToYourself));

    public static byte[] CallFrame(uint questionId, uint exportId, ulong interfaceId, ushort methodId, Action<PointerBuilder>? parameters = null, uint? promisedQuestion = null, Action<ListBuilder>? capTable = null, int capCount = 0, bool resultsToYourself = false) =>
        Frame(RpcSchema.Message.Call, RpcSchema.Call.DataWords, RpcSchema.Call.Pointers, call =>
        {
            call.WriteUInt32(RpcSchema.Call.QuestionId, questionId);
            call.WriteUInt16(RpcSchema.Call.SendResultsTo, resultsToYourself ? RpcSchema.Call.ToYourself : RpcSchema.Call.ToCaller);
            call.WriteUInt64(RpcSchema.Call.InterfaceId, interfaceId);
            call.WriteUInt16(RpcSchema.Call.MethodId, methodId);
            var target = call.InitStruct(RpcSchema.Call.Target, RpcSchema.MessageTarget.DataWords, RpcSchema.MessageTarget.Pointers);
            if (promisedQuestion is { } promised)
            {
                target.WriteUInt16(RpcSchema.MessageTarget.Which, RpcSchema.MessageTarget.IsPromisedAnswer);
                target.InitStruct(RpcSchema.MessageTarget.PromisedAnswer, RpcSchema.PromisedAnswer.DataWords, RpcSchema.PromisedAnswer.Pointers)
                    .WriteUInt32(RpcSchema.PromisedAnswer.QuestionId, promised);
            }
            else
            {
                target.WriteUInt32(RpcSchema.MessageTarget.ImportedCap, exportId);
            }

            var payload = call.InitStruct(RpcSchema.Call.Params, RpcSchema.Payload.DataWords, RpcSchema.Payload.Pointers);
            parameters?.Invoke(payload.GetPointer(RpcSchema.Payload.Content));
            if (capTable is not null)
            {
                capTable(payload.InitStructList(RpcSchema.Payload.CapTable, capCount, RpcSchema.CapDescriptor.DataWords, RpcSchema.CapDescriptor.Pointers));
            }
        });

    /// <summary>A Return with results: <paramref name="content"/> writes the content, <paramref name="capTable"/> the descriptors.</summary>
    public Task SendResultsAsync(uint answerId, Action<PointerBuilder> content, Action<ListBuilder>? capTable = null, int capCount = 0) =>
        SendAsync(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, r =>
        {
            r.WriteUInt32(RpcSchema.Return.AnswerId, answerId);
            r.WriteBool(RpcSchema.Return.ReleaseParamCaps, false, defaultValue: true);
            var payload = r.InitStruct(RpcSchema.Return.Body, RpcSchema.Payload.DataWords, RpcSchema.Payload.Pointers);
            content(payload.GetPointer(RpcSchema.Payload.Content));
            if (capTable is not null)
            {
                capTable(payload.InitStructList(RpcSchema.Payload.CapTable, capCount, RpcSchema.CapDescriptor.DataWords, RpcSchema.CapDescriptor.Pointers));
            }
        });

    public Task SendFinishAsync(uint questionId) => SendRawAsync(FinishFrame(questionId));

    public static byte[] FinishFrame(uint questionId) =>
        Frame(RpcSchema.Message.Finish, RpcSchema.Finish.DataWords, RpcSchema.Finish.Pointers, f =>
        {
            f.WriteUInt32(RpcSchema.Finish.QuestionId, questionId);
            f.WriteBool(RpcSchema.Finish.ReleaseResultCaps, false, defaultValue: true);
        });

    public Task SendReleaseAsync(uint id, uint count) =>
        SendAsync(RpcSchema.Message.Release, RpcSchema.Release.DataWords, RpcSchema.Release.Pointers, r =>
        {
            r.WriteUInt32(RpcSchema.Release.Id, id);
            r.WriteUInt32(RpcSchema.Release.ReferenceCount, count);
        });

    /// <summary>The next message from our side: its kind and body.</summary>
    public async Task<(ushort Which, StructReader Body)> ReceiveAsync()
    {
        while (true)
        {
            var result = await _link.Input.ReadAsync().AsTask().WaitAsync(Timeout);
            var buffer = result.Buffer;
            if (_frames.TryRead(ref buffer, out var message))
            {
                // Only what this message used is consumed, and nothing more is marked examined, so a
                // following message already buffered is returned by the next call without new data.
                _link.Input.AdvanceTo(buffer.Start);
                var root = message.GetRoot();
                return (root.ReadUInt16(RpcSchema.Message.Which), root.ReadStruct(RpcSchema.Message.Body));
            }

            _link.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new EndOfStreamException("The connection closed.");
            }
        }
    }

    /// <summary>Skips messages until one of kind <paramref name="which"/>.</summary>
    public async Task<StructReader> ReceiveAsync(ushort which)
    {
        while (true)
        {
            var (kind, body) = await ReceiveAsync();
            if (kind == which)
            {
                return body;
            }
        }
    }

    /// <summary>Expects an abort; returns its reason once the connection has also closed.</summary>
    public async Task<string> ExpectAbortAsync()
    {
        var abort = await ReceiveAsync(RpcSchema.Message.Abort);
        var reason = abort.ReadText(RpcSchema.Exception.Reason) ?? string.Empty;
        await Connection.Completion.WaitAsync(Timeout);
        return reason;
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _link.DisposeAsync();
    }
}
