using System.IO.Pipelines;

namespace RpcGen.Links;

/// <summary>
/// A bidirectional byte link between two peers, exposed as an <see cref="IDuplexPipe"/>: protocols
/// read frames from <see cref="IDuplexPipe.Input"/> and write to <see cref="IDuplexPipe.Output"/>.
/// Bytes written by many callers between two reads of the sender are sent together, which is where
/// write coalescing comes from.
/// </summary>
public abstract class RpcLink : IDuplexPipe, IAsyncDisposable
{
    /// <inheritdoc />
    public abstract PipeReader Input { get; }

    /// <inheritdoc />
    public abstract PipeWriter Output { get; }

    /// <summary>This end's address.</summary>
    public abstract string LocalAddress { get; }

    /// <summary>The other end's address.</summary>
    public abstract string RemoteAddress { get; }

    /// <summary>
    /// Who the other end is, when the link could establish it: the certificate a TLS link verified,
    /// the <c>SO_PEERCRED</c> credentials of a Unix socket. Null when the link knows nothing beyond
    /// <see cref="RemoteAddress"/>.
    /// </summary>
    public virtual RpcGen.Security.RpcPeerIdentity? PeerIdentity => null;

    /// <summary>Closes the link at once; buffered outbound bytes may be lost.</summary>
    public abstract void Abort();

    /// <summary>
    /// Flushes what was written, then closes the link. A pending read of <see cref="Input"/> returns
    /// (completed or canceled); the protocol that owns <see cref="Input"/> completes it.
    /// </summary>
    public abstract ValueTask DisposeAsync();
}
