using System.Runtime.CompilerServices;

namespace RpcGen.Capnp;

/// <summary>
/// One <see cref="LocalServerHook"/> per local object, process-wide, as <c>rpc.c++</c> keeps one
/// <c>ClientHook</c> per server: the same implementation given out twice (two calls that pass it, a
/// bootstrap and a call) is one capability, so a connection exports it under one id (each
/// <c>senderHosted</c> adds a remote reference, each <c>Release</c> removes its count) and the
/// implementation is disposed once, when the last reference anywhere is gone. A table is per
/// interface (<see cref="For{TService}"/>; raw servers have <see cref="Servers"/>): an object that
/// implements two contracts and is given out as both is two capabilities, each dispatching its own
/// interface, and is disposed by each.
/// Invariants: an entry is reused only while its hook still has a reference (<see cref="CapabilityHook.TryAddRef"/>);
/// once released, the next export starts a new hook (and a new lifetime). The table holds its keys
/// weakly, so it never keeps an implementation alive. <see cref="_gate"/> makes look-up and
/// replacement one step; nothing else runs under it.
/// </summary>
internal sealed class LocalServerTable
{
    private readonly ConditionalWeakTable<object, LocalServerHook> _hooks = new();
    private readonly Lock _gate = new();

    /// <summary>The table of raw <see cref="ICapabilityServer"/>s given to <see cref="Capability.FromServer"/>.</summary>
    public static LocalServerTable Servers { get; } = new();

    /// <summary>The table of implementations given out as <typeparamref name="TService"/>.</summary>
    public static LocalServerTable For<TService>() => PerService<TService>.Table;

    /// <summary>A new reference to the hook serving <paramref name="implementation"/>, made by <paramref name="createServer"/> the first time.</summary>
    public CapabilityHook Export<TState>(object implementation, TState state, Func<TState, ICapabilityServer> createServer)
    {
        lock (_gate)
        {
            if (_hooks.TryGetValue(implementation, out var live) && live.TryAddRef())
            {
                return live;
            }

            var hook = new LocalServerHook(createServer(state));
            _hooks.AddOrUpdate(implementation, hook);
            return hook;
        }
    }

    private static class PerService<TService>
    {
        public static readonly LocalServerTable Table = new();
    }
}
