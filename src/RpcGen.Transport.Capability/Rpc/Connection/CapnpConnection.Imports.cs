namespace RpcGen.Capnp;

// The import table (_imports): the peer's capabilities we hold, by the peer's export id.
//
// Invariants (all under _gate):
// - One ImportEntry per id while any reference to its ImportHook lives; the entry does not own the
//   hook (or its promise wrapper): the holders do. When the hook's last reference goes,
//   OnImportReleased removes the entry and sends one Release carrying every reference the peer sent
//   (RemoteReferences).
// - A descriptor that names an import whose last reference is being dropped right now (TryAddRef
//   fails) makes a new hook for the same id; the old one's Release returns only what it counted.
// - An id sent as senderPromise has at most one live RemotePromiseHook (entry.Promise); a Resolve
//   for it resolves that promise, and a Resolve for one we already released only releases what it
//   resolved to.
// - A capability table is read only after checking it claims no more descriptors than the message
//   has words (hostile input: zero-sized elements could claim millions).
//
// Lock order: _gate only. References dropped under the lock are released after it.

public sealed partial class CapnpConnection
{
    // The peer's capabilities we hold, by the peer's export id, while any reference to them lives.
    private readonly Dictionary<uint, ImportEntry> _imports = [];

    // ===== Reading capability descriptors =====

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

        if (descriptors.Count == 0)
        {
            // Most calls and results carry no capability: share one empty table.
            return [];
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

    // ===== Hooks of the peer letting go =====

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
                var builder = NewMessageLocked(RpcSchema.Message.Release, RpcSchema.Release.DataWords, RpcSchema.Release.Pointers, out var release);
                release.WriteUInt32(RpcSchema.Release.Id, import.Id);
                release.WriteUInt32(RpcSchema.Release.ReferenceCount, import.RemoteReferences);
                SendLocked(builder);
            }
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
}
