namespace RpcGen.Capnp;

// The export table (_exports, and _exportsByHook to reuse ids): our capabilities the peer holds.
//
// Invariants (all under _gate):
// - An entry owns one reference to its hook and counts how many times we sent its id
//   (ReferenceCount); sending the same hook again reuses its id (_exportsByHook) and counts one more.
// - The entry leaves when the peer gives every reference back: a Release, a Return with
//   releaseParamCaps, or a Finish with releaseResultCaps. A Release of more than the peer holds, or of
//   an id it does not hold, aborts the connection; the implicit releases are lenient.
// - An exported promise owes the peer exactly one Resolve: when it resolves, Hook becomes the
//   resolution (same id) and the Resolve goes out, unless the entry was released first.
//
// Lock order: _gate only. A hook whose entry leaves is released after the lock.

public sealed partial class CapnpConnection
{
    // Our capabilities the peer holds, until the peer releases every reference we sent.
    private readonly IdTable<ExportEntry> _exports = new();

    // The export id of each exported hook, so sending the same capability twice reuses its id.
    private readonly Dictionary<CapabilityHook, uint> _exportsByHook = new(ReferenceEqualityComparer.Instance);

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

            var builder = NewMessageLocked(RpcSchema.Message.Resolve, RpcSchema.Resolve.DataWords, RpcSchema.Resolve.Pointers, out var resolve);
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
}
