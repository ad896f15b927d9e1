namespace RpcGen.Capnp;

/// <summary>Results received from a peer, read in place in their message; the capability table's references are owned.</summary>
internal sealed class ReceivedResponse : ResponseCore
{
    private readonly PointerReader _content;
    private readonly Capability?[] _capabilities;

    public ReceivedResponse(CapnpMessage message, PointerReader content, Capability?[] capabilities)
    {
        message.CapTable = capabilities;
        _capabilities = capabilities;
        _content = content;
    }

    public override PointerReader Content => _content;

    protected override void OnReleased()
    {
        foreach (var capability in _capabilities)
        {
            capability?.Dispose();
        }
    }
}
