namespace RpcGen.Capnp;

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

            CompleteAnswerLocked(answer, new ResponseCore(results, ret, payload, content), null);
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

        _ = AwaitAnswerAsync(answer, pending);
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

        var answer = new Answer(questionId) { RedirectResults = redirect };
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

            var elsewhere = NewMessage(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, out var sentElsewhere);
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

            var canceled = NewMessage(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, out var ret);
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
            var failed = NewMessage(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, out var ret);
            ret.WriteUInt32(RpcSchema.Return.AnswerId, answer.Id);
            ret.WriteBool(RpcSchema.Return.ReleaseParamCaps, false, defaultValue: true);
            ret.WriteUInt16(RpcSchema.Return.Which, RpcSchema.Return.Exception);
            RpcErrors.Write(ret.InitStruct(RpcSchema.Return.Body, RpcSchema.Exception.DataWords, RpcSchema.Exception.Pointers), error!);
            SendLocked(failed);
        }

        answer.ReturnSent = true;
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
                    CompleteQuestionLocked(question, new ResponseCore(message, payload.GetPointer(RpcSchema.Payload.Content), capabilities), null);
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
        foreach (var promise in question.PipelinedPromises)
        {
            if (promise.TryAddRef())
            {
                var replacement = result?.GetPipelinedHook(promise.Path) ?? new BrokenHook(error!);
                ResolvePromiseLocked(promise, replacement, isError: result is null);
                ReleaseAfterUnlock(promise);
            }
        }

        question.PipelinedPromises.Clear();
        if (result is null)
        {
            question.Completion.TrySetException(error!);
        }
        else if (question.Dropped || !question.Completion.TrySetResult(result))
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

    // ===== finish: the peer is done with one of our answers =====

    private void HandleFinish(StructReader finish)
    {
        var questionId = finish.ReadUInt32(RpcSchema.Finish.QuestionId);
        var releaseResultCaps = finish.ReadBool(RpcSchema.Finish.ReleaseResultCaps, defaultValue: true);
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

                if (answer.Result is { } result)
                {
                    AfterUnlock(result.Release);
                }
            }
            else if (answer.Call is { } call && answer.TakenBy is null)
            {
                // Not returned yet: the caller cancels. The Return (canceled) frees the id. (An answer
                // whose results one of our questions picked up keeps running: we still want them.)
                AfterUnlock(call.Drop);
            }
        }
    }

    // ===== resolve: a promise the peer sent us has resolved =====

    private void HandleResolve(StructReader resolve)
    {
        var promiseId = resolve.ReadUInt32(RpcSchema.Resolve.PromiseId);
        var which = resolve.ReadUInt16(RpcSchema.Resolve.Which);
        using (Lock())
        {
            CapabilityHook replacement = which switch
            {
                RpcSchema.Resolve.Cap => ReceiveCapLocked(resolve.ReadStruct(RpcSchema.Resolve.Body)) ?? new BrokenHook(RpcErrors.NullCapability()),
                RpcSchema.Resolve.Exception => new BrokenHook(RpcErrors.Read(resolve.ReadStruct(RpcSchema.Resolve.Body))),
                _ => throw new CapnpProtocolException($"Resolve of kind {which} is not defined."),
            };

            if (_imports.TryGetValue(promiseId, out var entry))
            {
                if (entry.Promise is { } promise && promise.TryAddRef())
                {
                    ResolvePromiseLocked(promise, replacement, isError: which == RpcSchema.Resolve.Exception);
                    ReleaseAfterUnlock(promise);
                    return;
                }

                if (entry.Promise is null)
                {
                    ReleaseAfterUnlock(replacement);
                    throw new CapnpProtocolException($"Resolve for import {promiseId}, which was not sent as a promise.");
                }
            }

            // We already released the promise: just release what it resolved to.
            ReleaseAfterUnlock(replacement);
        }
    }

    // ===== release: the peer drops references to one of our exports =====

    private void HandleRelease(StructReader release)
    {
        var id = release.ReadUInt32(RpcSchema.Release.Id);
        var count = release.ReadUInt32(RpcSchema.Release.ReferenceCount);
        using (Lock())
        {
            ReleaseExportLocked(id, count, strict: true);
        }
    }

    private void ReleaseExportsLocked(List<uint>? ids)
    {
        if (ids is null)
        {
            return;
        }

        foreach (var id in ids)
        {
            ReleaseExportLocked(id, 1, strict: false);
        }
    }

    private void ReleaseExportLocked(uint id, uint count, bool strict)
    {
        if (!_exports.TryGet(id, out var export) || count > export.ReferenceCount)
        {
            if (strict)
            {
                throw new CapnpProtocolException(export is null
                    ? $"Release of export {id}, which the peer does not hold."
                    : $"Release of {count} references to export {id}, which the peer holds only {export.ReferenceCount} times.");
            }

            return;
        }

        export.ReferenceCount -= count;
        if (export.ReferenceCount == 0)
        {
            _exports.Remove(id);
            if (_exportsByHook.TryGetValue(export.Hook, out var mapped) && mapped == id)
            {
                _exportsByHook.Remove(export.Hook);
            }

            ReleaseAfterUnlock(export.Hook);
        }
    }

    // ===== disembargo =====

    private void HandleDisembargo(CapnpMessage message, StructReader disembargo)
    {
        var which = disembargo.ReadUInt16(RpcSchema.Disembargo.Which);
        var embargoId = disembargo.ReadUInt32(RpcSchema.Disembargo.EmbargoId);
        switch (which)
        {
            case RpcSchema.Disembargo.SenderLoopback:
            {
                // The peer's promise resolved to a capability of its own that it reached through us.
                // Reflect the Disembargo back through that capability: it arrives after every call
                // the peer sent through us, which is what the peer waits for.
                using (Lock())
                {
                    var target = GetMessageTargetLocked(disembargo.ReadStruct(RpcSchema.Disembargo.Target));
                    ReleaseAfterUnlock(target);
                    var inner = target.Innermost();
                    if (inner is RemotePromiseHook { IsResolved: false } promise)
                    {
                        inner = promise.Current;
                    }

                    if (inner.Connection != this || inner is not (ImportHook or PromisedAnswerHook))
                    {
                        throw new CapnpProtocolException("Disembargo senderLoopback names a capability that does not point back to the peer.");
                    }

                    var builder = NewMessage(RpcSchema.Message.Disembargo, RpcSchema.Disembargo.DataWords, RpcSchema.Disembargo.Pointers, out var reply);
                    WriteTargetLocked(reply.InitStruct(RpcSchema.Disembargo.Target, RpcSchema.MessageTarget.DataWords, RpcSchema.MessageTarget.Pointers), inner);
                    reply.WriteUInt16(RpcSchema.Disembargo.Which, RpcSchema.Disembargo.ReceiverLoopback);
                    reply.WriteUInt32(RpcSchema.Disembargo.EmbargoId, embargoId);
                    SendLocked(builder);
                }

                break;
            }

            case RpcSchema.Disembargo.ReceiverLoopback:
            {
                Embargo? embargo;
                using (Lock())
                {
                    if (!_embargoes.TryGet(embargoId, out embargo))
                    {
                        throw new CapnpProtocolException($"Disembargo receiverLoopback for embargo {embargoId}, which we never asked for.");
                    }

                    _embargoes.Remove(embargoId);
                }

                // Everything sent through the peer has now come back: release the queued calls. A
                // target in this process takes calls through our handler queue from now on, behind
                // the calls that came back (see HandlerQueueHook).
                embargo.Queue.Resolve(_handlers is not null && embargo.Target.Connection is null
                    ? new HandlerQueueHook(_handlers, embargo.Target)
                    : embargo.Target);
                embargo.Queue.Release();
                break;
            }

            default:
                // accept / provide belong to three-party handoff (level 3).
                ReplyUnimplemented(message);
                break;
        }
    }

    // ===== reading targets and capability descriptors =====

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

    private Capability?[] ReceiveCapTableLocked(CapnpMessage message, ListReader descriptors)
    {
        // Every descriptor a writer produces takes words of the message. A list of zero-sized
        // elements can claim millions of them in a few bytes (the traversal limit lets a message
        // charge 8M words), and the table below would be allocated for bytes never sent: more
        // descriptors than the message has words is that trick, not a cap table. Found by the
        // capnp-rpc fuzz harness (698 bytes made the connection allocate 16 MB).
        if (descriptors.Count > message.TotalWords)
        {
            throw new CapnpProtocolException($"A cap table claims {descriptors.Count} descriptors in a message of {message.TotalWords} words.");
        }

        var capabilities = new Capability?[descriptors.Count];
        try
        {
            for (var i = 0; i < capabilities.Length; i++)
            {
                var hook = ReceiveCapLocked(descriptors.GetStruct(i));
                capabilities[i] = hook is null ? null : new Capability(hook);
            }
        }
        catch
        {
            foreach (var capability in capabilities)
            {
                if (capability is not null)
                {
                    AfterUnlock(capability.Dispose);
                }
            }

            throw;
        }

        return capabilities;
    }

    /// <summary>What a <c>CapDescriptor</c> designates, as a new reference; null for <c>none</c>.</summary>
    private CapabilityHook? ReceiveCapLocked(StructReader descriptor)
    {
        var which = descriptor.ReadUInt16(RpcSchema.CapDescriptor.Which);
        switch (which)
        {
            case RpcSchema.CapDescriptor.None:
                return null;
            case RpcSchema.CapDescriptor.SenderHosted:
                return ImportLocked(descriptor.ReadUInt32(RpcSchema.CapDescriptor.Id), isPromise: false);
            case RpcSchema.CapDescriptor.SenderPromise:
                return ImportLocked(descriptor.ReadUInt32(RpcSchema.CapDescriptor.Id), isPromise: true);
            case RpcSchema.CapDescriptor.ReceiverHosted:
            {
                var id = descriptor.ReadUInt32(RpcSchema.CapDescriptor.Id);
                if (!_exports.TryGet(id, out var export))
                {
                    throw new CapnpProtocolException($"A capability descriptor names our export {id}, which the peer does not hold.");
                }

                return export.Hook.AddRef();
            }

            case RpcSchema.CapDescriptor.ReceiverAnswer:
                return GetPromisedAnswerLocked(descriptor.ReadStruct(RpcSchema.CapDescriptor.Pointer));
            case RpcSchema.CapDescriptor.ThirdPartyHosted:
                // Level 1: use the vine, a proxy the sender keeps for the third party's object.
                return ImportLocked(descriptor.ReadStruct(RpcSchema.CapDescriptor.Pointer).ReadUInt32(RpcSchema.ThirdPartyCapDescriptor.VineId), isPromise: false);
            default:
                return new BrokenHook(new RpcException(RpcStatusCode.Unimplemented, $"The peer sent a capability descriptor of unknown kind {which}."));
        }
    }

    /// <summary>A new reference to the import for the peer's export <paramref name="id"/>, counting one more remote reference.</summary>
    private CapabilityHook ImportLocked(uint id, bool isPromise)
    {
        ImportHook import;
        if (_imports.TryGetValue(id, out var entry) && entry.Import.TryAddRef())
        {
            import = entry.Import;
        }
        else
        {
            // A new import, or one whose last reference is being dropped right now (its Release
            // will carry only the references it counted; this new hook counts from here).
            import = new ImportHook(this, id);
            if (entry is null)
            {
                entry = new ImportEntry(import);
                _imports[id] = entry;
            }
            else
            {
                entry.Import = import;
                entry.Promise = null;
            }
        }

        import.RemoteReferences++;
        if (!isPromise)
        {
            return import;
        }

        if (entry.Promise is { } existing && existing.TryAddRef())
        {
            ReleaseAfterUnlock(import);
            return existing;
        }

        var promise = new RemotePromiseHook(this, import) { ImportId = id };
        entry.Promise = promise;
        return promise;
    }
}
