namespace RpcGen.Capnp;

/// <summary>
/// What a capability reference designates: a local server, a local promise, an import from a
/// connection, a promised answer, or a broken capability. Hooks are reference counted; every
/// <see cref="Capability"/> handle, capability table entry, table row or queued call that keeps one
/// alive holds exactly one reference. When the count reaches zero the hook lets go of what it
/// holds (an import sends <c>Release</c>, a local server is disposed).
/// </summary>
internal abstract class CapabilityHook
{
    private int _references = 1;

    /// <summary>Takes one more reference. Throws if the hook has already been released.</summary>
    public CapabilityHook AddRef()
    {
        if (!TryAddRef())
        {
            throw new ObjectDisposedException(GetType().Name, "The capability was already released.");
        }

        return this;
    }

    /// <summary>Takes one more reference unless the count has already reached zero.</summary>
    public bool TryAddRef()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Drops one reference; the last one releases the hook.</summary>
    public void Release()
    {
        var remaining = Interlocked.Decrement(ref _references);
        if (remaining == 0)
        {
            OnReleased();
        }
        else if (remaining < 0)
        {
            throw new InvalidOperationException("A capability reference was released twice.");
        }
    }

    /// <summary>
    /// Delivers a call. The hook takes ownership of <paramref name="request"/>; the returned pending
    /// call has exactly one consumer, who must either take its response or drop it.
    /// </summary>
    public abstract PendingCall Call(CallRequest request);

    /// <summary>For a promise that has resolved, what it resolved to (one step); otherwise null.</summary>
    public virtual CapabilityHook? Resolved => null;

    /// <summary>True while this is a promise that has not resolved.</summary>
    public virtual bool IsPromise => false;

    /// <summary>For an unresolved promise, completes when <see cref="Resolved"/> becomes available.</summary>
    public virtual Task? WhenMoreResolved => null;

    /// <summary>The connection this hook belongs to, for imports and promised answers; null for local hooks.</summary>
    public virtual CapnpConnection? Connection => null;

    /// <summary>Follows resolved promises to the innermost hook known so far.</summary>
    public CapabilityHook Innermost()
    {
        var hook = this;
        while (hook.Resolved is { } next)
        {
            hook = next;
        }

        return hook;
    }

    /// <summary>Called once, when the last reference is dropped.</summary>
    protected abstract void OnReleased();
}
