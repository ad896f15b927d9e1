namespace RpcGen.Capnp;

// Promise resolution and the embargo table (_embargoes): embargoes we asked for, by the id in our
// senderLoopback Disembargo.
//
// Invariants (all under _gate):
// - A promise from the peer resolves once (ResolvePromiseLocked); a second resolution is released.
// - An embargo enters when a promise that carried calls to the peer resolves to something not on
//   this connection: new calls wait in its queue. It leaves when our Disembargo comes back
//   (receiverLoopback), and the queue then drains to the target; at disconnect the queue breaks.
// - A senderLoopback from the peer must name a capability that points back to the peer.
//
// Lock order: _gate only. The queue is resolved after the lock is let go (calls may run).

public sealed partial class CapnpConnection
{
    // Embargoes we asked for, by the id in our senderLoopback Disembargo, until it comes back.
    private readonly IdTable<Embargo> _embargoes = new();

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
            var builder = NewMessageLocked(RpcSchema.Message.Disembargo, RpcSchema.Disembargo.DataWords, RpcSchema.Disembargo.Pointers, out var disembargo);
            WriteTargetLocked(disembargo.InitStruct(RpcSchema.Disembargo.Target, RpcSchema.MessageTarget.DataWords, RpcSchema.MessageTarget.Pointers), promise.Current);
            disembargo.WriteUInt16(RpcSchema.Disembargo.Which, RpcSchema.Disembargo.SenderLoopback);
            disembargo.WriteUInt32(RpcSchema.Disembargo.EmbargoId, embargoId);
            SendLocked(builder);
            replacement = queue;
        }

        ReleaseAfterUnlock(promise.ResolveLocked(replacement));
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

                    var builder = NewMessageLocked(RpcSchema.Message.Disembargo, RpcSchema.Disembargo.DataWords, RpcSchema.Disembargo.Pointers, out var reply);
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
}
