using System.IO.Pipelines;

namespace RpcGen.Links;

/// <summary>An in-process link: two pipes crossed over. Useful for tests and for in-process services.</summary>
internal sealed class MemoryLink : RpcLink
{
    private readonly Pipe _inbound;
    private readonly Pipe _outbound;

    private MemoryLink(Pipe inbound, Pipe outbound, string localAddress, string remoteAddress)
    {
        _inbound = inbound;
        _outbound = outbound;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
    }

    public override PipeReader Input => _inbound.Reader;

    public override PipeWriter Output => _outbound.Writer;

    public override string LocalAddress { get; }

    public override string RemoteAddress { get; }

    /// <summary>Creates both ends of a link.</summary>
    public static (MemoryLink Client, MemoryLink Server) CreatePair(string name, int maxPendingBytes)
    {
        var options = new PipeOptions(
            pauseWriterThreshold: maxPendingBytes,
            resumeWriterThreshold: maxPendingBytes / 2,
            readerScheduler: PipeScheduler.ThreadPool,
            writerScheduler: PipeScheduler.Inline,
            useSynchronizationContext: false);
        var toServer = new Pipe(options);
        var toClient = new Pipe(options);
        var address = "memory:" + name;
        return (new MemoryLink(toClient, toServer, address, address), new MemoryLink(toServer, toClient, address, address));
    }

    public override void Abort()
    {
        _outbound.Writer.Complete(new RpcException(RpcStatusCode.Disconnected, "The link was aborted."));
        _inbound.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        await _outbound.Writer.CompleteAsync().ConfigureAwait(false);

        // Our protocol may be waiting to read from the peer; wake it so it sees the link is gone.
        _inbound.Reader.CancelPendingRead();
    }
}
