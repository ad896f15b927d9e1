using System.Buffers;
using System.IO.Pipelines;
using RpcGen.Links;
using RpcGen.Fuzz.Seeds;
using RpcGen.Transport.Message;

namespace RpcGen.Fuzz.Harnesses;

/// <summary>
/// One in-process <see cref="RpcServer"/> serving <see cref="IFuzzStreams"/>, and a hostile peer that
/// writes an input into a fresh in-memory connection to it, closes its side, and reads until the
/// server has closed too. Shared by the harnesses that fuzz a live message connection.
/// </summary>
internal sealed class LiveMessageServer
{
    // Far above what an input costs on a loaded machine, well below libFuzzer's -timeout of 10 s:
    // past it the server is stuck on this connection, and that is the finding.
    private static readonly TimeSpan CloseBound = TimeSpan.FromSeconds(5);

    private readonly RpcServer _server;
    private readonly RpcLimits _limits;

    public LiveMessageServer()
    {
        // Small limits: a hostile frame meets them sooner; the checks are the same as at the defaults.
        _limits = new RpcLimits { MaxFrameBytes = 64 * 1024, StreamWindowBytes = 16 * 1024, MaxConcurrentCalls = 64, MaxPendingBytes = 256 * 1024 };
        _server = new RpcServer(new RpcServerOptions { Limits = _limits });
        _server.AddService<IFuzzStreams>(new FuzzStreamsService());
    }

    /// <summary>
    /// Writes <paramref name="first"/> then <paramref name="second"/> (two writes: the server may read
    /// them apart), closes the peer's side, then checks that the server closed the connection, let it
    /// go and has no call of it still running, each within a bound.
    /// </summary>
    public void Converse(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var (peer, served) = RpcLinks.CreateMemoryPair("fuzz-peer", _limits);
        _server.Accept(served);
        var conversation = ConverseAsync(peer, first.ToArray(), second.ToArray());
        if (!conversation.Wait(CloseBound))
        {
            peer.Abort();
            throw new FuzzInvariantException($"the server did not close the connection within {CloseBound.TotalSeconds} s of the peer closing its side");
        }

        FuzzCheck.That(SpinWait.SpinUntil(() => _server.ConnectionCount == 0, CloseBound), $"the server let the closed connection go within {CloseBound.TotalSeconds} s ({_server.ConnectionCount} left)");
        FuzzCheck.That(SpinWait.SpinUntil(() => _server.InflightCalls == 0, CloseBound), $"the closed connection's calls wound down within {CloseBound.TotalSeconds} s ({_server.InflightCalls} still running)");
    }

    private static async Task ConverseAsync(RpcLink peer, byte[] first, byte[] second)
    {
        try
        {
            var reading = DrainAsync(peer.Input);
            await WriteAsync(peer.Output, first).ConfigureAwait(false);
            await WriteAsync(peer.Output, second).ConfigureAwait(false);
            await peer.Output.CompleteAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(false);
        }
        finally
        {
            await peer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task WriteAsync(PipeWriter output, byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return;
        }

        // The server may have closed already (it aborts at the first bad frame): then the write fails
        // or completes unread, and both are fine.
        try
        {
            await output.WriteAsync(bytes).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or RpcException or IOException)
        {
            // Closed by the server.
        }
    }

    private static async Task DrainAsync(PipeReader input)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RpcException or IOException)
            {
                // The server aborted the link: closed, which is what we wait for.
                return;
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    /// <summary>The first frame of <paramref name="stream"/> (a real client's hello) and the rest.</summary>
    public static (byte[] Hello, byte[] Remainder) SplitFirstFrame(byte[] stream, RpcLimits limits)
    {
        var status = FrameParser.TryParse(new ReadOnlySequence<byte>(stream), limits.MaxFrameBytes, limits.MaxMetadataBytes, out var header, out _, out var next, out _);
        if (status != FrameParseStatus.Frame || header.Kind != FrameKind.Hello)
        {
            throw new InvalidDataException("The capture does not start with a hello frame.");
        }

        var length = (int)new ReadOnlySequence<byte>(stream).Slice(0, next).Length;
        return (stream[..length], stream[length..]);
    }

    /// <summary>Every process-wide allocation: the server works on the thread pool.</summary>
    public static long AllocatedBytes() => GC.GetTotalAllocatedBytes(precise: false);
}
