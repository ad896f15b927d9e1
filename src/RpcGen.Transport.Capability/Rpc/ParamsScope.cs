namespace RpcGen.Capnp;

/// <summary>
/// The capabilities a call's generated server read from its parameters (as typed proxies), which the
/// call lends its implementation: they are released when the call returns, as <c>rpc.c++</c> drops a
/// call's params, unless the implementation kept them with <see cref="CapnpCapability.Retain{TService}"/>.
/// So a server that only uses a callback during the call needs nothing, and the peer's object is
/// freed when the call ends, not when a garbage collector runs.
/// Invariants: a capability joins the scope at most once; <see cref="End"/> runs once (when the call's
/// parameters are released) and releases every capability still lent; one joining after that is
/// released at once. <see cref="_gate"/> guards the list only; releases run outside it.
/// </summary>
internal sealed class ParamsScope
{
    private readonly Lock _gate = new();
    private readonly ulong _interfaceId;
    private readonly ushort _methodId;
    private List<Capability>? _lent = [];

    /// <summary>A scope for the call to method <paramref name="methodId"/> of interface <paramref name="interfaceId"/>.</summary>
    public ParamsScope(ulong interfaceId, ushort methodId)
    {
        _interfaceId = interfaceId;
        _methodId = methodId;
    }

    /// <summary>Lends <paramref name="capability"/> (read from the parameters) to the call until it returns.</summary>
    public void Lend(Capability capability, Type service)
    {
        capability.LendTo(this, service);
        lock (_gate)
        {
            if (_lent is not null)
            {
                _lent.Add(capability);
                return;
            }
        }

        capability.ReleaseLent();
    }

    /// <summary>Why a capability this scope lent can no longer be used (built only when someone tries).</summary>
    public string ReleasedMessage(Type service) =>
        $"The {service.FullName} capability was received as a parameter of a call (method {_methodId} of interface 0x{_interfaceId:x16}) and released when that call returned. "
        + $"To keep a capability beyond its call, call {nameof(CapnpCapability)}.{nameof(CapnpCapability.Retain)}(proxy) during the call (and dispose the proxy when done with it).";

    /// <summary>The call returned (or dropped its parameters early): releases what it still lends.</summary>
    public void End()
    {
        List<Capability>? lent;
        lock (_gate)
        {
            lent = _lent;
            _lent = null;
        }

        if (lent is null)
        {
            return;
        }

        foreach (var capability in lent)
        {
            capability.ReleaseLent();
        }
    }
}
