using System.IO.Pipelines;
using RpcGen.Links;
using RpcGen.Security;

namespace RpcGen.Transport.Flow;

/// <summary>
/// A flow as an <see cref="RpcLink"/>, so the message protocol and Cap'n Proto run over it
/// unchanged. Disposing ends this side's direction and stops reading; aborting resets the flow.
/// </summary>
public sealed class FlowRpcLink : RpcLink
{
    private readonly Flow _flow;

    /// <summary>Wraps <paramref name="flow"/>.</summary>
    public FlowRpcLink(Flow flow, string localAddress, string remoteAddress)
    {
        _flow = flow;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
    }

    /// <summary>The flow carried.</summary>
    public Flow Flow => _flow;

    /// <inheritdoc />
    public override PipeReader Input => _flow.Input;

    /// <inheritdoc />
    public override PipeWriter Output => _flow.Output;

    /// <inheritdoc />
    public override string LocalAddress { get; }

    /// <inheritdoc />
    public override string RemoteAddress { get; }

    /// <summary>What the flow connection's link verified about the peer (TLS, Unix credentials).</summary>
    public override RpcPeerIdentity? PeerIdentity => _flow.Connection.RemotePeer.Identity;

    /// <inheritdoc />
    public override void Abort() => _flow.Reset("the link was aborted");

    /// <inheritdoc />
    public override ValueTask DisposeAsync() => _flow.DisposeAsync();
}
