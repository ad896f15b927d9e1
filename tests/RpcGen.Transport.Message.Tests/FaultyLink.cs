using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using RpcGen.Links;

namespace RpcGen.Transport.Message.Tests;

/// <summary>What a <see cref="FaultyLink"/> does to the bytes that pass one way.</summary>
public enum FaultKind
{
    /// <summary>Abort the whole link (both directions, as a reset) once <see cref="Fault.Offset"/> bytes passed.</summary>
    Cut,

    /// <summary>Pass <see cref="Fault.Offset"/> bytes, then end this direction gracefully (EOF) and drop the rest.</summary>
    Truncate,

    /// <summary>Invert the byte at <see cref="Fault.Offset"/>.</summary>
    Corrupt,

    /// <summary>Leave out <see cref="Fault.Count"/> bytes from <see cref="Fault.Offset"/>.</summary>
    Drop,

    /// <summary>Send <see cref="Fault.Count"/> bytes from <see cref="Fault.Offset"/> twice.</summary>
    Duplicate,

    /// <summary>Deliver every byte in a flush of its own (the most fragmented a peer can be).</summary>
    Trickle,
}

/// <summary>One fault, at a byte offset of one direction.</summary>
public sealed record Fault(FaultKind Kind, long Offset = 0, int Count = 1)
{
    public override string ToString() => Kind switch
    {
        FaultKind.Drop or FaultKind.Duplicate => $"{Kind} {Count} at {Offset}",
        FaultKind.Trickle => "Trickle",
        _ => $"{Kind} at {Offset}",
    };
}

/// <summary>
/// A link that sits above any transport's link and damages the byte stream the protocol sees, one
/// fault per direction: what a broken network, a buggy proxy or a hostile middlebox would deliver.
/// It counts the bytes each way, so a clean run tells a test which offsets are worth damaging.
/// </summary>
public sealed class FaultyLink : RpcLink
{
    private readonly RpcLink _inner;
    private readonly Pipe _inbound = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _outbound = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Task _receiving;
    private readonly Task _sending;
    private long _sent;
    private long _received;
    private int _aborted;

    public FaultyLink(RpcLink inner, Fault? outbound, Fault? inbound)
    {
        _inner = inner;
        _sending = PumpAsync(_outbound.Reader, inner.Output, outbound, outgoing: true);
        _receiving = PumpAsync(inner.Input, _inbound.Writer, inbound, outgoing: false);
    }

    /// <summary>Bytes the protocol wrote that went on to the transport.</summary>
    public long BytesSent => Interlocked.Read(ref _sent);

    /// <summary>Bytes the transport delivered (before any fault).</summary>
    public long BytesReceived => Interlocked.Read(ref _received);

    public override PipeReader Input => _inbound.Reader;

    public override PipeWriter Output => _outbound.Writer;

    public override string LocalAddress => _inner.LocalAddress;

    public override string RemoteAddress => _inner.RemoteAddress;

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        _inner.Abort();
        _outbound.Reader.CancelPendingRead();
        _inbound.Writer.CancelPendingFlush();
    }

    public override async ValueTask DisposeAsync()
    {
        await _outbound.Writer.CompleteAsync();
        await _sending;
        await _inner.DisposeAsync();
        _inbound.Writer.CancelPendingFlush();
        await _receiving;
    }

    private async Task PumpAsync(PipeReader from, PipeWriter to, Fault? fault, bool outgoing)
    {
        Exception? failure = null;
        try
        {
            var passed = 0L;
            while (true)
            {
                var read = await from.ReadAsync();
                if (read.IsCanceled)
                {
                    break;
                }

                var bytes = read.Buffer.ToArray();
                from.AdvanceTo(read.Buffer.End);
                Interlocked.Add(ref outgoing ? ref _sent : ref _received, bytes.Length);
                var end = passed + bytes.Length;
                var verdict = await ForwardAsync(bytes, passed, fault, to);
                passed = end;
                if (verdict == Verdict.Cut)
                {
                    Abort();
                    break;
                }

                if (verdict == Verdict.Ended || read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or RpcException or ObjectDisposedException)
        {
            failure = ex;
        }

        await from.CompleteAsync();
        await to.CompleteAsync(failure);
    }

    private enum Verdict
    {
        Go,
        Cut,
        Ended,
    }

    // Forwards bytes[0..] (the stream's bytes [start, start + length)) with the fault applied.
    private static async ValueTask<Verdict> ForwardAsync(byte[] bytes, long start, Fault? fault, PipeWriter to)
    {
        var end = start + bytes.Length;
        var at = fault is null ? -1 : fault.Offset - start; // the fault's position in this read, if inside
        switch (fault?.Kind)
        {
            case FaultKind.Cut or FaultKind.Truncate when at >= 0 && at <= bytes.Length:
                await WriteAsync(to, bytes.AsMemory(0, (int)at));
                return fault.Kind == FaultKind.Cut ? Verdict.Cut : Verdict.Ended;
            case FaultKind.Corrupt when at >= 0 && at < bytes.Length:
                bytes[at] ^= 0xFF;
                break;
            case FaultKind.Drop or FaultKind.Duplicate when fault.Offset < end && fault.Offset + fault.Count > start:
                // The damaged range may have begun in an earlier read or go on into a later one.
                var first = (int)Math.Max(0, at);
                var last = (int)Math.Min(bytes.Length, at + fault.Count);
                await WriteAsync(to, bytes.AsMemory(0, first));
                if (fault.Kind == FaultKind.Duplicate)
                {
                    await WriteAsync(to, bytes.AsMemory(first, last - first));
                    await WriteAsync(to, bytes.AsMemory(first, last - first));
                }

                await WriteAsync(to, bytes.AsMemory(last));
                return Verdict.Go;
            case FaultKind.Trickle:
                for (var i = 0; i < bytes.Length; i++)
                {
                    await WriteAsync(to, bytes.AsMemory(i, 1));
                }

                return Verdict.Go;
        }

        await WriteAsync(to, bytes);
        return Verdict.Go;
    }

    private static async ValueTask WriteAsync(PipeWriter to, ReadOnlyMemory<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var flushed = await to.WriteAsync(bytes);
        if (flushed.IsCompleted || flushed.IsCanceled)
        {
            throw new IOException("The other side of the faulty link stopped taking bytes.");
        }
    }
}

/// <summary>
/// Opens <c>fault:ID</c>: connects to the address registered under ID over any transport (with the
/// client's TLS options) and puts a <see cref="FaultyLink"/> above it. Clients only: faults are
/// injected on the client's side of the connection, in either direction.
/// </summary>
public sealed class FaultLinkProvider : IRpcLinkProvider
{
    public static readonly FaultLinkProvider Instance = new();

    private readonly ConcurrentDictionary<string, (string Inner, Fault? Outbound, Fault? Inbound)> _plans = new();
    private readonly ConcurrentDictionary<string, FaultyLink> _opened = new();

    private FaultLinkProvider()
    {
        RpcLinks.Register(this);
    }

    public IReadOnlyList<string> Schemes { get; } = ["fault"];

    /// <summary>A new <c>fault:</c> address that reaches <paramref name="inner"/> with the given faults.</summary>
    public string Plan(string inner, Fault? outbound = null, Fault? inbound = null)
    {
        var id = Guid.NewGuid().ToString("N");
        _plans[id] = (inner, outbound, inbound);
        return "fault:" + id;
    }

    /// <summary>The link the client opened for <paramref name="address"/> (null if it never connected).</summary>
    public FaultyLink? Opened(string address) => _opened.TryGetValue(address, out var link) ? link : null;

    public async ValueTask<RpcLink> ConnectAsync(string address, RpcLinkContext context, CancellationToken cancellationToken)
    {
        var (inner, outbound, inbound) = _plans[address["fault:".Length..]];
        var link = new FaultyLink(await RpcLinks.ConnectAsync(inner, context.Limits, context.Tls, cancellationToken), outbound, inbound);
        _opened[address] = link;
        return link;
    }

    public RpcLinkListener Listen(string address, RpcLinkContext context) =>
        throw new NotSupportedException("Faults are injected on the client's side; listen on the transport's own address.");
}
