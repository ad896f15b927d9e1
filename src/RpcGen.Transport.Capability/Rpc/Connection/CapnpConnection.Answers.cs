namespace RpcGen.Capnp;

// The answer table (_answers): calls and bootstraps the peer sent, by the peer's question id.
//
// Invariants (all under _gate):
// - An id enters when the Call or Bootstrap arrives (NewAnswerLocked refuses an id still in use and
//   more than MaxAnswers at once) and leaves once both our Return has gone out (ReturnSent) and
//   the peer's Finish has arrived (FinishReceived), or at disconnect.
// - The answer is in the table before its call is delivered, so calls the peer pipelines on it
//   find it; Call is set right after delivery and cleared when the call completes.
// - Exactly one Return goes out per answer. A call the peer finished early gets Return{canceled};
//   one that asked for sendResultsTo.yourself gets Return{resultsSentElsewhere} and keeps its
//   results for our takeFromOtherQuestion (TakenBy).
// - The results (Result) are owned here from completion until Finish, for pipelined calls.
//
// Lock order: _gate only. A call is delivered to its target outside the lock (the target may be a
// local server or another connection), so HandleCall takes the lock twice; the answer's outcome
// arrives off the lock (told by a call served here, or awaited by AwaitAnswerAsync) and is sent under it.

public sealed partial class CapnpConnection
{
    // Calls and bootstraps the peer sent, by the peer's question id, until the peer's Finish.
    private readonly Dictionary<uint, Answer> _answers = [];

    // ===== bootstrap: the peer asks for our bootstrap capability =====

    private void HandleBootstrap(StructReader bootstrap)
    {
        var questionId = bootstrap.ReadUInt32(RpcSchema.Bootstrap.QuestionId);
        using (Lock())
        {
            var answer = NewAnswerLocked(questionId, redirect: false);
            if (_bootstrap is null)
            {
                CompleteAnswerLocked(answer, null, new RpcException(RpcStatusCode.Failed, "This peer has no bootstrap interface."));
                return;
            }

            // The results are the capability itself (a capability pointer as the content).
            var results = new CapnpMessageBuilder(firstSegmentWords: 32);
            var message = results.InitRoot(RpcSchema.Message.DataWords, RpcSchema.Message.Pointers);
            message.WriteUInt16(RpcSchema.Message.Which, RpcSchema.Message.Return);
            var ret = message.InitStruct(RpcSchema.Message.Body, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers);
            var payload = ret.InitStruct(RpcSchema.Return.Body, RpcSchema.Payload.DataWords, RpcSchema.Payload.Pointers);
            var content = payload.GetPointer(RpcSchema.Payload.Content);
            using (var bootstrapCapability = new Capability(_bootstrap.AddRef()))
            {
                content.SetCapability(bootstrapCapability);
            }

            CompleteAnswerLocked(answer, new BuiltResponse(results, ret, payload, content), null);
        }
    }

    // ===== call: the peer calls one of our capabilities =====

    private void HandleCall(CapnpMessage message, StructReader call)
    {
        var questionId = call.ReadUInt32(RpcSchema.Call.QuestionId);
        var interfaceId = call.ReadUInt64(RpcSchema.Call.InterfaceId);
        var methodId = call.ReadUInt16(RpcSchema.Call.MethodId);
        var sendResultsTo = call.ReadUInt16(RpcSchema.Call.SendResultsTo);
        if (sendResultsTo > RpcSchema.Call.ToYourself)
        {
            throw new CapnpProtocolException("A call asked for its results to go to a third party; this two-party connection has none.");
        }

        Answer answer;
        CapabilityHook target;
        CallRequest request;
        using (Lock())
        {
            answer = NewAnswerLocked(questionId, redirect: sendResultsTo == RpcSchema.Call.ToYourself);
            target = GetMessageTargetLocked(call.ReadStruct(RpcSchema.Call.Target));
            var payload = call.ReadStruct(RpcSchema.Call.Params);
            Capability?[] capabilities;
            try
            {
                capabilities = ReceiveCapTableLocked(message, payload.ReadList(RpcSchema.Payload.CapTable, ElementSize.InlineComposite));
            }
            catch
            {
                ReleaseAfterUnlock(target);
                throw;
            }

            // The message, not the payload: a call without params (a null payload pointer, which
            // reads as empty params) has a payload that belongs to no message.
            message.CapTable = capabilities;
            request = CallRequest.FromInbound(interfaceId, methodId, payload.GetPointer(RpcSchema.Payload.Content), capabilities, _handlers, _authorization, this);
        }

        // Deliver outside the lock: the target may be a local server (its handler starts on the pool,
        // or here in Inline mode) or another connection.
        PendingCall pending;
        try
        {
            pending = target.Call(request);
        }
        finally
        {
            target.Release();
        }

        using (Lock())
        {
            answer.Call = pending;
            if (_disconnected is not null)
            {
                // The connection ended while the call was being delivered (the server's own code ran
                // above, outside the lock, and may itself have aborted the connection, or a watchdog or
                // another thread did). Disconnect found no call on this answer to cancel; cancel it
                // here, or it would run on for a caller that is gone.
                AfterUnlock(pending.Cancel);
            }
        }

        // A call served in this process tells the answer its outcome on the thread that completes it;
        // any other is awaited.
        if (!pending.TryListen(answer))
        {
            _ = AwaitAnswerAsync(answer, pending);
        }
    }

    private Answer NewAnswerLocked(uint questionId, bool redirect)
    {
        if (_answers.ContainsKey(questionId))
        {
            throw new CapnpProtocolException($"The peer reused question id {questionId} while it is still in use.");
        }

        if (_answers.Count >= _options.MaxAnswers)
        {
            throw new CapnpProtocolException($"The peer has more than {_options.MaxAnswers} calls outstanding.");
        }

        var answer = new Answer(questionId, this) { RedirectResults = redirect };
        _answers[questionId] = answer;
        return answer;
    }

    private async Task AwaitAnswerAsync(Answer answer, PendingCall pending)
    {
        ResponseCore? result = null;
        RpcException? error = null;
        try
        {
            result = await pending.Response.ConfigureAwait(false);
        }
        catch (Exception failure)
        {
            error = RpcErrors.ToRpcException(failure);
        }

        OnAnswerOutcome(answer, result, error);
    }

    /// <summary>The answer's call has an outcome (owned <paramref name="result"/>, or <paramref name="error"/>): send the Return, unless the connection ended meanwhile.</summary>
    internal void OnAnswerOutcome(Answer answer, ResponseCore? result, RpcException? error)
    {
        using (Lock())
        {
            if (!_answers.TryGetValue(answer.Id, out var current) || current != answer)
            {
                // The connection ended meanwhile.
                result?.Release();
                return;
            }

            CompleteAnswerLocked(answer, result, error);
        }
    }

    /// <summary>The answer's call has an outcome (owned <paramref name="result"/>, or <paramref name="error"/>): send the Return.</summary>
    private void CompleteAnswerLocked(Answer answer, ResponseCore? result, RpcException? error)
    {
        answer.Completed = true;
        answer.Call = null;
        if (answer.RedirectResults)
        {
            // The results stay here for a Return{takeFromOtherQuestion} of ours to pick up. The peer
            // wants a Return all the same, saying they went elsewhere.
            answer.Result = result;
            answer.Error = error;
            if (answer.TakenBy is { } question)
            {
                DeliverRedirectLocked(question, answer);
            }

            var elsewhere = NewMessageLocked(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, out var sentElsewhere);
            sentElsewhere.WriteUInt32(RpcSchema.Return.AnswerId, answer.Id);
            sentElsewhere.WriteBool(RpcSchema.Return.ReleaseParamCaps, false, defaultValue: true);
            sentElsewhere.WriteUInt16(RpcSchema.Return.Which, RpcSchema.Return.ResultsSentElsewhere);
            SendLocked(elsewhere);
            answer.ReturnSent = true;
            if (answer.FinishReceived)
            {
                _answers.Remove(answer.Id);
                if (result is not null)
                {
                    AfterUnlock(result.Release);
                }
            }

            return;
        }

        if (answer.FinishReceived)
        {
            // The caller cancelled before the call completed; it is waiting for this Return to free the id.
            if (result is not null)
            {
                AfterUnlock(result.Release);
            }

            var canceled = NewMessageLocked(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, out var ret);
            ret.WriteUInt32(RpcSchema.Return.AnswerId, answer.Id);
            ret.WriteBool(RpcSchema.Return.ReleaseParamCaps, false, defaultValue: true);
            ret.WriteUInt16(RpcSchema.Return.Which, RpcSchema.Return.Canceled);
            SendLocked(canceled);
            _answers.Remove(answer.Id);
            return;
        }

        answer.Result = result;
        answer.Error = error;
        if (result is not null)
        {
            answer.ResultExports = SendResultsLocked(answer.Id, result);
        }
        else
        {
            var failed = NewMessageLocked(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, out var ret);
            ret.WriteUInt32(RpcSchema.Return.AnswerId, answer.Id);
            ret.WriteBool(RpcSchema.Return.ReleaseParamCaps, false, defaultValue: true);
            ret.WriteUInt16(RpcSchema.Return.Which, RpcSchema.Return.Exception);
            RpcErrors.Write(ret.InitStruct(RpcSchema.Return.Body, RpcSchema.Exception.DataWords, RpcSchema.Exception.Pointers), error!);
            SendLocked(failed);
        }

        answer.ReturnSent = true;
    }

    /// <summary>Sends the results of answer <paramref name="answerId"/>; returns the exports its capability table counted.</summary>
    private List<uint>? SendResultsLocked(uint answerId, ResponseCore result)
    {
        if (result.TryUseInPlace())
        {
            // Results a local server wrote straight into a Return message: fill in the rest and send it.
            var ret = result.ReturnStruct!.Value;
            ret.WriteUInt32(RpcSchema.Return.AnswerId, answerId);
            ret.WriteBool(RpcSchema.Return.ReleaseParamCaps, false, defaultValue: true);
            var exports = WriteCapTableLocked(result.Payload, result.Builder!.CapTable);
            SendLocked(result.Builder, dispose: false);
            return exports;
        }

        var builder = NewMessageLocked(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, out var copy);
        copy.WriteUInt32(RpcSchema.Return.AnswerId, answerId);
        copy.WriteBool(RpcSchema.Return.ReleaseParamCaps, false, defaultValue: true);
        var payload = copy.InitStruct(RpcSchema.Return.Body, RpcSchema.Payload.DataWords, RpcSchema.Payload.Pointers);
        try
        {
            payload.GetPointer(RpcSchema.Payload.Content).CopyFrom(result.Content);
        }
        catch (RpcException error)
        {
            // Results forwarded from elsewhere that cannot be read: the caller gets the error instead.
            RecycleLocked(builder);
            builder = NewMessageLocked(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, out var failed);
            failed.WriteUInt32(RpcSchema.Return.AnswerId, answerId);
            failed.WriteBool(RpcSchema.Return.ReleaseParamCaps, false, defaultValue: true);
            failed.WriteUInt16(RpcSchema.Return.Which, RpcSchema.Return.Exception);
            RpcErrors.Write(failed.InitStruct(RpcSchema.Return.Body, RpcSchema.Exception.DataWords, RpcSchema.Exception.Pointers), error);
            SendLocked(builder);
            return null;
        }

        var copiedExports = WriteCapTableLocked(payload, builder.CapTable);
        SendLocked(builder);
        return copiedExports;
    }

    // ===== finish: the peer is done with one of our answers =====

    private void HandleFinish(StructReader finish)
    {
        var questionId = finish.ReadUInt32(RpcSchema.Finish.QuestionId);
        var releaseResultCaps = finish.ReadBool(RpcSchema.Finish.ReleaseResultCaps, defaultValue: true);
        ResponseCore? finished = null;
        using (Lock())
        {
            if (!_answers.TryGetValue(questionId, out var answer) || answer.FinishReceived)
            {
                throw new CapnpProtocolException(answer is null
                    ? $"Finish for question {questionId}, which the peer never asked or already finished."
                    : $"A second Finish for question {questionId}.");
            }

            answer.FinishReceived = true;
            if (answer.ReturnSent)
            {
                _answers.Remove(questionId);
                if (releaseResultCaps)
                {
                    ReleaseExportsLocked(answer.ResultExports);
                }

                // Released once the lock is let go, as AfterUnlock would, without a delegate per call.
                finished = answer.Result;
            }
            else if (answer.Call is { } call && answer.TakenBy is null)
            {
                // Not returned yet: the caller cancels. The Return (canceled) frees the id. (An answer
                // whose results one of our questions picked up keeps running: we still want them.)
                AfterUnlock(call.Drop);
            }
        }

        if (finished is not null)
        {
            try
            {
                finished.Release();
            }
            catch (Exception error)
            {
                // What the results held may run user code as it goes (a server's Dispose).
                CapnpLog.DeferredFailed(_logger, error);
            }
        }
    }

    // ===== targets: what the peer addresses (our exports, or our answers' pipelined capabilities) =====

    /// <summary>What a <c>MessageTarget</c> designates, as a new reference.</summary>
    private CapabilityHook GetMessageTargetLocked(StructReader target)
    {
        switch (target.ReadUInt16(RpcSchema.MessageTarget.Which))
        {
            case RpcSchema.MessageTarget.IsImportedCap:
            {
                var id = target.ReadUInt32(RpcSchema.MessageTarget.ImportedCap);
                if (!_exports.TryGet(id, out var export))
                {
                    throw new CapnpProtocolException($"Message to export {id}, which the peer does not hold.");
                }

                return export.Hook.AddRef();
            }

            case RpcSchema.MessageTarget.IsPromisedAnswer:
                return GetPromisedAnswerLocked(target.ReadStruct(RpcSchema.MessageTarget.PromisedAnswer));

            default:
                throw new CapnpProtocolException("A message target of an unknown kind.");
        }
    }

    private CapabilityHook GetPromisedAnswerLocked(StructReader promisedAnswer)
    {
        var questionId = promisedAnswer.ReadUInt32(RpcSchema.PromisedAnswer.QuestionId);
        var path = PipelinePath.Read(promisedAnswer.ReadList(RpcSchema.PromisedAnswer.Transform, ElementSize.InlineComposite));
        if (!_answers.TryGetValue(questionId, out var answer))
        {
            throw new CapnpProtocolException($"Pipelined message to question {questionId}, which the peer never asked or already finished.");
        }

        if (answer.Completed)
        {
            return answer.Result?.GetPipelinedHook(path) ?? new BrokenHook(answer.Error ?? RpcErrors.Cancelled());
        }

        return answer.Call?.GetPipelinedHook(path) ?? new BrokenHook(RpcErrors.Cancelled());
    }
}
