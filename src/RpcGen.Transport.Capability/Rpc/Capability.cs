namespace RpcGen.Capnp;

/// <summary>
/// A reference to an object that can be called: a local <see cref="ICapabilityServer"/>, an object
/// on the other side of a <see cref="CapnpConnection"/>, or a promise for one (whose calls are
/// queued, or pipelined to the peer, until it resolves). Each handle is one reference;
/// <see cref="Dup"/> makes another and <see cref="Dispose"/> drops this one. When the last
/// reference to a remote object is dropped the peer is told (<c>Release</c>); when the last
/// reference to a local server is dropped the server is disposed if it is <see cref="IDisposable"/>.
/// </summary>
public sealed class Capability : IDisposable
{
    private const int Owned = 0, Lent = 1, Kept = 2, ReleasedAtReturn = 3;

    private readonly CapabilityHook _hook;
    private int _disposed;

    // Owned unless a call lent this handle to its implementation (a typed proxy read from the call's
    // parameters): then Lent until the call returns (ReleasedAtReturn, and disposed) or the
    // implementation retains it (Kept, an ordinary owned handle from then on). _loan is set before
    // the state becomes Lent and only read after; one reference field, allocated only for lent
    // handles, so every other handle stays small.
    private int _lending;
    private Loan? _loan;

    /// <summary>Wraps a reference the caller already owns; the handle takes it over.</summary>
    internal Capability(CapabilityHook ownedReference)
    {
        _hook = ownedReference;
    }

    /// <summary>True once this handle has been disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>True while this is a promise that has not resolved to a settled object.</summary>
    public bool IsPromise => Hook.Innermost().IsPromise;

    internal CapabilityHook Hook
    {
        get
        {
            if (IsDisposed)
            {
                ThrowDisposed();
            }

            return _hook;
        }
    }

    /// <summary>
    /// A capability for a local server. The same server given again while a reference to it lives is
    /// the same capability (one export id per connection; disposed once, after the last reference).
    /// </summary>
    public static Capability FromServer(ICapabilityServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return new Capability(LocalServerTable.Servers.Export(server, server, static s => s));
    }

    /// <summary>
    /// A promise for a capability that <paramref name="promise"/> will produce. Calls made before it
    /// completes are queued and delivered in order; if it fails, they fail with its error.
    /// The capability the task produces is taken over (disposed by this promise).
    /// </summary>
    public static Capability FromPromise(Task<Capability> promise)
    {
        ArgumentNullException.ThrowIfNull(promise);
        var hook = new LocalPromiseHook();
        promise.ContinueWith(
            (task, state) =>
            {
                var target = (LocalPromiseHook)state!;
                if (task.IsCompletedSuccessfully)
                {
                    using var resolved = task.Result;
                    target.Resolve(resolved?.Hook.AddRef() ?? new BrokenHook(RpcErrors.NullCapability()));
                }
                else
                {
                    target.Resolve(new BrokenHook(RpcErrors.ToRpcException(task.Exception?.InnerException ?? new OperationCanceledException())));
                }
            },
            hook,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return new Capability(hook);
    }

    /// <summary>A capability every call on which fails with <paramref name="error"/>.</summary>
    public static Capability Broken(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new Capability(new BrokenHook(error));
    }

    /// <summary>Starts a call: write the parameters into the request, then <see cref="CapnpRequest.Send"/> it.</summary>
    public CapnpRequest NewRequest(ulong interfaceId, ushort methodId) => new(Hook.AddRef(), interfaceId, methodId);

    /// <summary>Completes when this capability is no longer a promise (it resolved to a settled object, or broke).</summary>
    public async Task WhenResolvedAsync(CancellationToken cancellationToken = default)
    {
        var hook = Hook;
        while (true)
        {
            hook = hook.Innermost();
            if (!hook.IsPromise || hook.WhenMoreResolved is not { } next)
            {
                return;
            }

            await next.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Another reference to the same object, disposed independently.</summary>
    public Capability Dup() => new(Hook.AddRef());

    /// <summary>Drops this reference.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _hook.Release();
        }
    }

    /// <summary>The connection this capability reaches the peer through, if any (for log lines).</summary>
    internal CapnpConnection? Connection => _hook.Connection ?? _hook.Innermost().Connection;

    /// <summary>Marks this handle as lent by <paramref name="lender"/>, a call's parameters, until the call returns.</summary>
    internal void LendTo(ParamsScope lender, Type service)
    {
        _loan = new Loan(lender, service);
        Interlocked.CompareExchange(ref _lending, Lent, Owned);
    }

    /// <summary>True while a call lends this handle to its implementation (it releases it when it returns).</summary>
    internal bool IsLent => Volatile.Read(ref _lending) == Lent;

    /// <summary>The call that lent this handle returned: drops it unless it was retained.</summary>
    internal void ReleaseLent()
    {
        if (Interlocked.CompareExchange(ref _lending, ReleasedAtReturn, Lent) == Lent)
        {
            Dispose();
        }
    }

    /// <summary>
    /// Keeps a lent handle beyond its call (it becomes an ordinary owned reference). Throws, naming the
    /// rule, when the call already returned and released it.
    /// </summary>
    internal void Retain()
    {
        if (Interlocked.CompareExchange(ref _lending, Kept, Lent) == ReleasedAtReturn || IsDisposed)
        {
            ThrowDisposed();
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowDisposed() =>
        throw new ObjectDisposedException(
            nameof(Capability),
            Volatile.Read(ref _lending) == ReleasedAtReturn && _loan is { } loan
                ? loan.Lender.ReleasedMessage(loan.Service)
                : "The capability was disposed.");

    /// <summary>Which call lent this handle, and as which service its proxy was read.</summary>
    private sealed record Loan(ParamsScope Lender, Type Service);
}
