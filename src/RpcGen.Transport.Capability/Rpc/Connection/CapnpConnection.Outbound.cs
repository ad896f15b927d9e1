namespace RpcGen.Capnp;

public sealed partial class CapnpConnection
{
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

    // ===== Pipelining on our questions =====

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
        question.PipelinedPromises.Add(promise);
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

            question.Dropped = true;
            if (!question.ReturnReceived)
            {
                question.Completion.TrySetException(RpcErrors.Cancelled());
                if (cancel)
                {
                    // The caller wants the callee stopped now: break the pipeline so Finish goes out.
                    foreach (var promise in question.PipelinedPromises)
                    {
                        if (promise.TryAddRef())
                        {
                            ResolvePromiseLocked(promise, new BrokenHook(RpcErrors.Cancelled()), isError: true);
                            ReleaseAfterUnlock(promise);
                        }
                    }

                    question.PipelinedPromises.Clear();
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

        var builder = NewMessage(RpcSchema.Message.Finish, RpcSchema.Finish.DataWords, RpcSchema.Finish.Pointers, out var finish);
        finish.WriteUInt32(RpcSchema.Finish.QuestionId, question.Id);
        finish.WriteBool(RpcSchema.Finish.ReleaseResultCaps, !question.ReturnReceived, defaultValue: true);
        SendLocked(builder);
        question.FinishSent = true;
        if (question.ReturnReceived)
        {
            _questions.Remove(question.Id);
        }
    }

    // ===== Hooks of this connection letting go =====

    internal void OnImportReleased(ImportHook import)
    {
        using (Lock())
        {
            if (_imports.TryGetValue(import.Id, out var entry) && entry.Import == import)
            {
                _imports.Remove(import.Id);
            }

            if (_disconnected is null && import.RemoteReferences > 0)
            {
                var builder = NewMessage(RpcSchema.Message.Release, RpcSchema.Release.DataWords, RpcSchema.Release.Pointers, out var release);
                release.WriteUInt32(RpcSchema.Release.Id, import.Id);
                release.WriteUInt32(RpcSchema.Release.ReferenceCount, import.RemoteReferences);
                SendLocked(builder);
            }
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

    internal void OnRemotePromiseReleased(RemotePromiseHook promise)
    {
        using (Lock())
        {
            if (promise.ImportId is { } id && _imports.TryGetValue(id, out var entry) && entry.Promise == promise)
            {
                entry.Promise = null;
            }

            ReleaseAfterUnlock(promise.Current);
        }
    }

    // ===== Promise resolution and embargoes =====

    /// <summary>
    /// Resolves a promise from the peer to <paramref name="replacement"/> (owned).
    /// </summary>
    /// <remarks>
    /// The embargo race: Alice calls foo() on promise P, which points at the peer. P then resolves to
    /// Carol, who lives here. Alice calls bar() on P; sent straight to Carol, bar() would run before
    /// foo(), which is still travelling to the peer and back. So when calls went through P and P
    /// resolves to something not on this connection, new calls wait in a queue, and a Disembargo
    /// goes to P's old target; it comes back after foo(), and then the queue drains to Carol.
    /// </remarks>
    private void ResolvePromiseLocked(RemotePromiseHook promise, CapabilityHook replacement, bool isError)
    {
        if (promise.IsResolved)
        {
            ReleaseAfterUnlock(replacement);
            return;
        }

        if (!isError && promise.ReceivedCall && _disconnected is null && replacement.Connection != this)
        {
            var queue = new LocalPromiseHook();
            var embargoId = _embargoes.Add(new Embargo((LocalPromiseHook)queue.AddRef(), replacement));
            var builder = NewMessage(RpcSchema.Message.Disembargo, RpcSchema.Disembargo.DataWords, RpcSchema.Disembargo.Pointers, out var disembargo);
            WriteTargetLocked(disembargo.InitStruct(RpcSchema.Disembargo.Target, RpcSchema.MessageTarget.DataWords, RpcSchema.MessageTarget.Pointers), promise.Current);
            disembargo.WriteUInt16(RpcSchema.Disembargo.Which, RpcSchema.Disembargo.SenderLoopback);
            disembargo.WriteUInt32(RpcSchema.Disembargo.EmbargoId, embargoId);
            SendLocked(builder);
            replacement = queue;
        }

        ReleaseAfterUnlock(promise.ResolveLocked(replacement));
    }

    // ===== Capability descriptors: how we name capabilities to the peer =====

    /// <summary>Writes the capability table of a payload; returns the exports it counted.</summary>
    private List<uint>? WriteCapTableLocked(StructBuilder payload, IReadOnlyList<Capability?> capabilities)
    {
        if (capabilities.Count == 0)
        {
            return null;
        }

        List<uint>? exports = null;
        var table = payload.InitStructList(RpcSchema.Payload.CapTable, capabilities.Count, RpcSchema.CapDescriptor.DataWords, RpcSchema.CapDescriptor.Pointers);
        for (var i = 0; i < capabilities.Count; i++)
        {
            if (WriteDescriptorLocked(capabilities[i]?.Hook, table.GetStruct(i)) is { } export)
            {
                (exports ??= []).Add(export);
            }
        }

        return exports;
    }

    /// <summary>
    /// Writes how the peer should find <paramref name="hook"/>: its own capability (receiverHosted,
    /// receiverAnswer), or one of ours (senderHosted, senderPromise), exported now or reused.
    /// Returns the export id whose reference count this added to.
    /// </summary>
    private uint? WriteDescriptorLocked(CapabilityHook? hook, StructBuilder descriptor)
    {
        if (hook is null)
        {
            descriptor.WriteUInt16(RpcSchema.CapDescriptor.Which, RpcSchema.CapDescriptor.None);
            return null;
        }

        hook = hook.Innermost();
        if (hook.Connection == this)
        {
            switch (hook)
            {
                case ImportHook import:
                    descriptor.WriteUInt16(RpcSchema.CapDescriptor.Which, RpcSchema.CapDescriptor.ReceiverHosted);
                    descriptor.WriteUInt32(RpcSchema.CapDescriptor.Id, import.Id);
                    return null;

                case PromisedAnswerHook answer:
                    descriptor.WriteUInt16(RpcSchema.CapDescriptor.Which, RpcSchema.CapDescriptor.ReceiverAnswer);
                    var promised = descriptor.InitStruct(RpcSchema.CapDescriptor.Pointer, RpcSchema.PromisedAnswer.DataWords, RpcSchema.PromisedAnswer.Pointers);
                    promised.WriteUInt32(RpcSchema.PromisedAnswer.QuestionId, answer.Question.Id);
                    answer.Path.Write(promised.GetPointer(RpcSchema.PromisedAnswer.Transform));
                    return null;

                case RemotePromiseHook promise:
                    // Unresolved (Innermost followed resolved ones). Calls may now reach the peer through it.
                    promise.ReceivedCall = true;
                    return WriteDescriptorLocked(promise.Current, descriptor);
            }
        }

        if (_exportsByHook.TryGetValue(hook, out var existingId) && _exports.TryGet(existingId, out var existing))
        {
            existing.ReferenceCount++;
            descriptor.WriteUInt16(RpcSchema.CapDescriptor.Which, existing.IsPromise ? RpcSchema.CapDescriptor.SenderPromise : RpcSchema.CapDescriptor.SenderHosted);
            descriptor.WriteUInt32(RpcSchema.CapDescriptor.Id, existingId);
            return existingId;
        }

        var isPromise = hook.IsPromise;
        var export = new ExportEntry(hook.AddRef(), isPromise);
        var id = _exports.Add(export);
        _exportsByHook[hook] = id;
        descriptor.WriteUInt16(RpcSchema.CapDescriptor.Which, isPromise ? RpcSchema.CapDescriptor.SenderPromise : RpcSchema.CapDescriptor.SenderHosted);
        descriptor.WriteUInt32(RpcSchema.CapDescriptor.Id, id);
        if (isPromise)
        {
            WatchExportedPromiseLocked(id, export);
        }

        return id;
    }

    /// <summary>When an exported promise resolves, tell the peer with a Resolve message (we promised exactly one).</summary>
    private void WatchExportedPromiseLocked(uint id, ExportEntry export)
    {
        var signal = export.Hook.WhenMoreResolved ?? Task.CompletedTask;
        signal.ContinueWith(
            static (_, state) =>
            {
                var (connection, id, export) = ((CapnpConnection, uint, ExportEntry))state!;
                connection.OnExportedPromiseResolved(id, export);
            },
            (this, id, export),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void OnExportedPromiseResolved(uint id, ExportEntry export)
    {
        using (Lock())
        {
            if (_disconnected is not null || !_exports.TryGet(id, out var current) || current != export)
            {
                // Released before it resolved: no Resolve is owed.
                return;
            }

            var promise = export.Hook;
            if (promise.Resolved is not { } next)
            {
                WatchExportedPromiseLocked(id, export);
                return;
            }

            var resolution = next.Innermost();
            if (_exportsByHook.TryGetValue(promise, out var mapped) && mapped == id)
            {
                _exportsByHook.Remove(promise);
            }

            export.Hook = resolution.AddRef();
            ReleaseAfterUnlock(promise);
            if (resolution.Connection != this && resolution.IsPromise && !_exportsByHook.ContainsKey(resolution))
            {
                // A promise resolved to another local promise not yet exported: the same export id
                // stands for the new promise, and no message is needed yet.
                _exportsByHook[resolution] = id;
                WatchExportedPromiseLocked(id, export);
                return;
            }

            var builder = NewMessage(RpcSchema.Message.Resolve, RpcSchema.Resolve.DataWords, RpcSchema.Resolve.Pointers, out var resolve);
            resolve.WriteUInt32(RpcSchema.Resolve.PromiseId, id);
            if (resolution is BrokenHook broken)
            {
                resolve.WriteUInt16(RpcSchema.Resolve.Which, RpcSchema.Resolve.Exception);
                RpcErrors.Write(resolve.InitStruct(RpcSchema.Resolve.Body, RpcSchema.Exception.DataWords, RpcSchema.Exception.Pointers), broken.Error);
            }
            else
            {
                resolve.WriteUInt16(RpcSchema.Resolve.Which, RpcSchema.Resolve.Cap);
                WriteDescriptorLocked(resolution, resolve.InitStruct(RpcSchema.Resolve.Body, RpcSchema.CapDescriptor.DataWords, RpcSchema.CapDescriptor.Pointers));
            }

            SendLocked(builder);
        }
    }

    // ===== Returns =====

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

        var builder = NewMessage(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, out var copy);
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
            builder.Dispose();
            builder = NewMessage(RpcSchema.Message.Return, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers, out var failed);
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
}
