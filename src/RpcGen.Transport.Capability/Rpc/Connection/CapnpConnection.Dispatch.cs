namespace RpcGen.Capnp;

// Dispatch: every message the reader completes goes through HandleMessage, one switch on the
// message kind, to the Handle{Kind} method of the table it concerns (Questions, Answers, Imports,
// Exports, Embargoes files). This file also holds the kinds that belong to no table: abort, and
// unimplemented (the peer echoing one of our messages back).
//
// Runs on the reader (or a fuzz harness's thread, see CreateUnstarted), one message at a time, in
// arrival order. A handler that throws aborts the connection (ReceiveFrames). Lock order: _gate
// only, taken by each handler for the table work; nothing outside the connection runs under it.

public sealed partial class CapnpConnection
{
    // ===== Dispatch: one handler per message kind =====

    private void HandleMessage(CapnpMessage message)
    {
        var root = message.GetRoot();
        var body = root.GetPointer(RpcSchema.Message.Body);
        var which = root.ReadUInt16(RpcSchema.Message.Which);
        Trace?.Invoke(false, which);
        switch (which)
        {
            case RpcSchema.Message.Unimplemented:
                HandleUnimplemented(body.GetStruct());
                break;
            case RpcSchema.Message.Abort:
                HandleAbort(body.GetStruct());
                break;
            case RpcSchema.Message.Bootstrap:
                HandleBootstrap(body.GetStruct());
                break;
            case RpcSchema.Message.Call:
                HandleCall(message, body.GetStruct());
                break;
            case RpcSchema.Message.Return:
                HandleReturn(message, body.GetStruct());
                break;
            case RpcSchema.Message.Finish:
                HandleFinish(body.GetStruct());
                break;
            case RpcSchema.Message.Resolve:
                HandleResolve(body.GetStruct());
                break;
            case RpcSchema.Message.Release:
                HandleRelease(body.GetStruct());
                break;
            case RpcSchema.Message.Disembargo:
                HandleDisembargo(message, body.GetStruct());
                break;
            default:
                // Level 2-4 messages (provide, accept, join, the obsolete save/delete) and kinds newer
                // than this implementation: echo them back, as the protocol asks.
                CapnpLog.Unimplemented(_logger, which);
                ReplyUnimplemented(message);
                break;
        }
    }

    private void ReplyUnimplemented(CapnpMessage message)
    {
        using (Lock())
        {
            var builder = new CapnpMessageBuilder(firstSegmentWords: 64);
            var reply = builder.InitRoot(RpcSchema.Message.DataWords, RpcSchema.Message.Pointers);
            reply.WriteUInt16(RpcSchema.Message.Which, RpcSchema.Message.Unimplemented);
            reply.GetPointer(RpcSchema.Message.Body).CopyFrom(message.Root);
            SendLocked(builder);
        }
    }

    // ===== unimplemented: the peer echoed a message of ours it does not handle =====

    private void HandleUnimplemented(StructReader echoed)
    {
        var body = echoed.GetPointer(RpcSchema.Message.Body);
        switch (echoed.ReadUInt16(RpcSchema.Message.Which))
        {
            case RpcSchema.Message.Resolve:
            {
                // A level-0 peer: act as if it released what the promise resolved to.
                var resolve = body.GetStruct();
                if (resolve.ReadUInt16(RpcSchema.Resolve.Which) == RpcSchema.Resolve.Cap)
                {
                    var descriptor = resolve.ReadStruct(RpcSchema.Resolve.Body);
                    var kind = descriptor.ReadUInt16(RpcSchema.CapDescriptor.Which);
                    if (kind is RpcSchema.CapDescriptor.SenderHosted or RpcSchema.CapDescriptor.SenderPromise)
                    {
                        using (Lock())
                        {
                            ReleaseExportLocked(descriptor.ReadUInt32(RpcSchema.CapDescriptor.Id), 1, strict: false);
                        }
                    }
                }

                break;
            }

            case RpcSchema.Message.Bootstrap:
            case RpcSchema.Message.Call:
            {
                // The question never reached the peer's answer table: fail it, no Finish needed.
                var questionId = body.GetStruct().ReadUInt32(0);
                using (Lock())
                {
                    if (_questions.TryGet(questionId, out var question) && !question.ReturnReceived)
                    {
                        question.ReturnReceived = true;
                        question.FinishSent = true;
                        ReleaseExportsLocked(question.ParamExports);
                        CompleteQuestionLocked(question, null, new RpcException(RpcStatusCode.Unimplemented, "The peer does not implement this request."));
                        _questions.Remove(questionId);
                    }
                }

                break;
            }
        }
    }

    // ===== abort =====

    private void HandleAbort(StructReader exception)
    {
        var error = RpcErrors.Read(exception, "The peer aborted the connection: ");
        Disconnect(new RpcException(RpcStatusCode.Disconnected, error.Message), sendAbort: false);
    }
}
