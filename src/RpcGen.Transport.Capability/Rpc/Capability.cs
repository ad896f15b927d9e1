namespace RpcGen.Capnp;

/// <summary>
/// A reference to an object that can be called: a local <c>ICapabilityServer</c>, an object
/// on the other side of a <c>CapnpConnection</c>, or a promise for one. Each handle is one
/// reference; <see cref="Dup"/> makes another and <see cref="Dispose"/> drops this one. When the
/// last reference to a remote object is dropped the peer is told (<c>Release</c>); when the last
/// reference to a local server is dropped the server is disposed if it is <see cref="IDisposable"/>.
/// </summary>
public sealed class Capability : IDisposable
{
    private readonly CapabilityHook _hook;
    private int _disposed;

    /// <summary>Wraps a reference the caller already owns; the handle takes it over.</summary>
    internal Capability(CapabilityHook ownedReference)
    {
        _hook = ownedReference;
    }

    /// <summary>True once this handle has been disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    internal CapabilityHook Hook
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _hook;
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
}
