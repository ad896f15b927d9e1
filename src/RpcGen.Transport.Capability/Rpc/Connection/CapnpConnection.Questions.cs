namespace RpcGen.Capnp;

// The question table (_questions): calls and bootstraps we sent, by the id we chose.
//
// Invariants (all under _gate):
// - An id enters when the Call or Bootstrap message is queued (SendCallLocked, Bootstrap) and is
//   free again only once both the Return has arrived (ReturnReceived) and our Finish has gone out
//   (FinishSent): MaybeFinishLocked or HandleReturn removes it, whichever comes second. An
//   `unimplemented` echo of the call frees it at once: the peer never had an answer for it.
// - Finish is sent once, when nothing needs the question any more: its Return arrived or its
//   consumer dropped it, and no PromisedAnswerHook addresses it (PipelineHolders is 0). Sent before
//   the Return, it asks the peer to cancel and to release the results' capabilities itself.
// - The consumer is told once (Question.TryDeliver, MarkDropped): the results, the error, or
//   cancelled when it drops the call. A CallPromise listens (TryListenInline) and is told under the
//   lock without a task; any other consumer reads Response, a task made only for it.
//   A drop ends it cancelled, not faulted: the consumer has said it will not look, so no exception is
//   made, thrown or left unobserved (a dropped question's later error only breaks its pipeline).
//   Its continuations run asynchronously, so setting it under the lock runs no user code.
// - PipelinedPromises (not owned) resolve when the outcome arrives, or break when the consumer
//   cancels; the list is empty after either.
//
// Lock order: _gate only. Hooks let go under the lock are released after it (ReleaseAfterUnlock).

public sealed partial class CapnpConnection
{
    // Calls and bootstraps we sent. An id is free again once its Return arrived and our Finish went out.
    private readonly IdTable<Question> _questions = new();

    // ===== Calls to the peer =====

    /// <summary>Sends a call to an import or promised answer of this connection.</summary>
    internal PendingCall SendCall(CapabilityHook target, CallRequest request)
    {
        using (Lock())
        {
            return SendCallLocked(target, request);
        }
    }

    /// <summary>
    /// A call on a promise from the peer. Until the promise resolves, the call goes to the peer
    /// under the same lock that resolution takes, so no call can slip past a Disembargo.
    /// </summary>
    internal PendingCall CallThroughPromise(RemotePromiseHook promise, CallRequest request)
    {
        CapabilityHook target;
        using (Lock())
        {
            if (!promise.IsResolved)
            {
                promise.ReceivedCall = true;
                return SendCallLocked(promise.Current, request);
            }

            target = promise.Current.AddRef();
        }

        try
        {
            return target.Call(request);
        }
        finally
        {
            target.Release();
        }
    }

    private PendingCall SendCallLocked(CapabilityHook target, CallRequest request)
    {
        if (_disconnected is { } error)
        {
            request.ReleaseParams();
            return new BrokenPendingCall(error);
        }

        if (target is PromisedAnswerHook { Question.FinishSent: true })
        {
            request.ReleaseParams();
            return new BrokenPendingCall(RpcErrors.Cancelled());
        }

        CapnpMessageBuilder builder;
        StructBuilder call;
        StructBuilder payload;
        try
        {
            (builder, call, payload) = request.TakeForSending();
        }
        catch (RpcException copyError)
        {
            // Parameters forwarded from another peer that cannot be read: fail this call only.
            return new BrokenPendingCall(copyError);
        }

        var question = new Question(this);
        question.Id = _questions.Add(question);
        call.WriteUInt32(RpcSchema.Call.QuestionId, question.Id);
        WriteTargetLocked(call.InitStruct(RpcSchema.Call.Target, RpcSchema.MessageTarget.DataWords, RpcSchema.MessageTarget.Pointers), target);
        question.ParamExports = WriteCapTableLocked(payload, builder.CapTable);
        SendLocked(builder);
        request.Recycle();
        return question;
    }

    /// <summary>Writes a <c>MessageTarget</c> for an import or promised answer of this connection.</summary>
    private void WriteTargetLocked(StructBuilder target, CapabilityHook hook)
    {
        switch (hook)
        {
            case ImportHook import:
                target.WriteUInt16(RpcSchema.MessageTarget.Which, RpcSchema.MessageTarget.IsImportedCap);
                target.WriteUInt32(RpcSchema.MessageTarget.ImportedCap, import.Id);
                break;

            case PromisedAnswerHook answer:
                target.WriteUInt16(RpcSchema.MessageTarget.Which, RpcSchema.MessageTarget.IsPromisedAnswer);
                var promised = target.InitStruct(RpcSchema.MessageTarget.PromisedAnswer, RpcSchema.PromisedAnswer.DataWords, RpcSchema.PromisedAnswer.Pointers);
                promised.WriteUInt32(RpcSchema.PromisedAnswer.QuestionId, answer.Question.Id);
                answer.Path.Write(promised.GetPointer(RpcSchema.PromisedAnswer.Transform));
                break;

            case RemotePromiseHook { IsResolved: false } promise:
                promise.ReceivedCall = true;
                WriteTargetLocked(target, promise.Current);
                break;

            default:
                throw new InvalidOperationException($"A {hook.GetType().Name} is not addressable on the wire.");
        }
    }

    // ===== Pipelining on our questions, and letting them go =====

    internal CapabilityHook GetQuestionPipelinedHook(Question question, PipelinePath path)
    {
        using (Lock())
        {
            return GetQuestionPipelinedHookLocked(question, path);
        }
    }

    private CapabilityHook GetQuestionPipelinedHookLocked(Question question, PipelinePath path)
    {
        if (question.AwaitingRedirect is { } redirect)
        {
            // The results will come from our own answer: pipeline on that.
            return redirect.Completed
                ? redirect.Result?.GetPipelinedHook(path) ?? new BrokenHook(redirect.Error ?? RpcErrors.Cancelled())
                : redirect.Call?.GetPipelinedHook(path) ?? new BrokenHook(RpcErrors.Cancelled());
        }

        if (question.ReturnReceived)
        {
            return question.Result?.GetPipelinedHook(path) ?? new BrokenHook(question.Error ?? RpcErrors.Cancelled());
        }

        if (_disconnected is { } error)
        {
            return new BrokenHook(error);
        }

        if (question.FinishSent)
        {
            return new BrokenHook(RpcErrors.Cancelled());
        }

        var target = new PromisedAnswerHook(this, question, path);
        question.PipelineHolders++;
        var promise = new RemotePromiseHook(this, target) { Path = path };
        (question.PipelinedPromises ??= []).Add(promise);
        return promise;
    }

    internal void DropQuestion(Question question, bool cancel)
    {
        using (Lock())
        {
            if (question.Dropped)
            {
                return;
            }

            question.MarkDropped();
            if (!question.ReturnReceived)
            {
                if (cancel)
                {
                    // The caller wants the callee stopped now: break the pipeline so Finish goes out.
                    if (question.PipelinedPromises is { } promises)
                    {
                        foreach (var promise in promises)
                        {
                            if (promise.TryAddRef())
                            {
                                ResolvePromiseLocked(promise, new BrokenHook(RpcErrors.Cancelled()), isError: true);
                                ReleaseAfterUnlock(promise);
                            }
                        }

                        question.PipelinedPromises = null;
                    }
                }
            }

            MaybeFinishLocked(question);
        }
    }

    /// <summary>
    /// Sends Finish once nothing needs the question any more: its Return arrived or its consumer
    /// dropped it, and no pipelined capability still addresses it. Before the Return, Finish also
    /// asks the peer to cancel and to release the results' capabilities itself.
    /// </summary>
    private void MaybeFinishLocked(Question question)
    {
        if (question.FinishSent || _disconnected is not null)
        {
            return;
        }

        if ((!question.ReturnReceived && !question.Dropped) || question.PipelineHolders > 0)
        {
            return;
        }

        var builder = NewMessageLocked(RpcSchema.Message.Finish, RpcSchema.Finish.DataWords, RpcSchema.Finish.Pointers, out var finish);
        finish.WriteUInt32(RpcSchema.Finish.QuestionId, question.Id);
        finish.WriteBool(RpcSchema.Finish.ReleaseResultCaps, !question.ReturnReceived, defaultValue: true);
        SendLocked(builder);
        question.FinishSent = true;
        if (question.ReturnReceived)
        {
            _questions.Remove(question.Id);
        }
    }

    internal void OnPromisedAnswerReleased(PromisedAnswerHook hook)
    {
        using (Lock())
        {
            hook.Question.PipelineHolders--;
            MaybeFinishLocked(hook.Question);
        }
    }

    // ===== return: the peer answers one of our questions =====

    private void HandleReturn(CapnpMessage message, StructReader ret)
    {
        var answerId = ret.ReadUInt32(RpcSchema.Return.AnswerId);
        using (Lock())
        {
            if (!_questions.TryGet(answerId, out var question) || question.ReturnReceived)
            {
                throw new CapnpProtocolException(question is null
                    ? $"Return for question {answerId}, which we never asked or already finished."
                    : $"A second Return for question {answerId}.");
            }

            question.ReturnReceived = true;
            if (ret.ReadBool(RpcSchema.Return.ReleaseParamCaps, defaultValue: true))
            {
                ReleaseExportsLocked(question.ParamExports);
            }

            question.ParamExports = null;
            if (question.FinishSent)
            {
                // We cancelled with releaseResultCaps: the peer releases whatever it sent; just forget the question.
                _questions.Remove(answerId);
                return;
            }

            var which = ret.ReadUInt16(RpcSchema.Return.Which);
            switch (which)
            {
                case RpcSchema.Return.Results:
                {
                    var payload = ret.ReadStruct(RpcSchema.Return.Body);
                    var capabilities = ReceiveCapTableLocked(message, payload.ReadList(RpcSchema.Payload.CapTable, ElementSize.InlineComposite));
                    CompleteQuestionLocked(question, new ReceivedResponse(message, payload.GetPointer(RpcSchema.Payload.Content), capabilities), null);
                    break;
                }

                case RpcSchema.Return.Exception:
                    CompleteQuestionLocked(question, null, RpcErrors.Read(ret.ReadStruct(RpcSchema.Return.Body)));
                    break;

                case RpcSchema.Return.Canceled:
                    CompleteQuestionLocked(question, null, new RpcException(RpcStatusCode.Cancelled, "The peer cancelled the call."));
                    break;

                case RpcSchema.Return.TakeFromOther:
                {
                    var otherId = ret.ReadUInt32(RpcSchema.Return.TakeFromOtherQuestion);
                    if (!_answers.TryGetValue(otherId, out var other) || !other.RedirectResults || other.TakenBy is not null)
                    {
                        throw new CapnpProtocolException($"Return.takeFromOtherQuestion names answer {otherId}, which is not a call with sendResultsTo.yourself awaiting pickup.");
                    }

                    other.TakenBy = question;
                    if (other.Completed)
                    {
                        DeliverRedirectLocked(question, other);
                    }
                    else
                    {
                        question.AwaitingRedirect = other;
                    }

                    break;
                }

                case RpcSchema.Return.ResultsSentElsewhere:
                    throw new CapnpProtocolException($"Return for question {answerId} says resultsSentElsewhere, but that call did not send its results elsewhere.");

                default:
                    throw new CapnpProtocolException($"Return for question {answerId} has kind {which}, which a two-party connection does not use.");
            }

            MaybeFinishLocked(question);
        }
    }

    /// <summary>A question's outcome arrived (<paramref name="result"/> owned, or <paramref name="error"/>): resolve its pipeline, then tell the consumer.</summary>
    private void CompleteQuestionLocked(Question question, ResponseCore? result, RpcException? error)
    {
        question.Result = result;
        question.Error = error;
        if (question.PipelinedPromises is { } promises)
        {
            foreach (var promise in promises)
            {
                if (promise.TryAddRef())
                {
                    var replacement = result?.GetPipelinedHook(promise.Path) ?? new BrokenHook(error!);
                    ResolvePromiseLocked(promise, replacement, isError: result is null);
                    ReleaseAfterUnlock(promise);
                }
            }

            question.PipelinedPromises = null;
        }

        if (!question.TryDeliver(result, error) && result is not null)
        {
            AfterUnlock(result.Release);
        }
    }

    /// <summary>Our answer <paramref name="answer"/> (sent elsewhere) completed: its outcome is <paramref name="question"/>'s.</summary>
    private void DeliverRedirectLocked(Question question, Answer answer)
    {
        question.AwaitingRedirect = null;
        CompleteQuestionLocked(question, answer.Result?.Retain(), answer.Result is null ? answer.Error ?? RpcErrors.Cancelled() : null);
        MaybeFinishLocked(question);
    }
}
