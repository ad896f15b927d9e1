using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Security.Cryptography;
using RpcGen.Links;

namespace RpcGen.Security;

/// <summary>
/// The record layer of <see cref="RpcPskLayer"/>: an <see cref="RpcLink"/> over an inner link whose
/// bytes travel as ChaCha20-Poly1305 records: a 4-byte big-endian length (of ciphertext and tag),
/// then the ciphertext of at most 16 KiB of plaintext and its 16-byte tag; the length is the
/// associated data. Each direction has its own key and a 64-bit record counter as nonce.
/// </summary>
/// <remarks>
/// Invariants: a nonce is never used twice under one key (each direction's counter only grows, and
/// the link closes before it would wrap); a record that does not authenticate aborts the link, and
/// nothing of it reaches the protocol. Record 0 in each direction is a fixed confirmation: a peer
/// with another pre-shared key derives other keys, fails it, and is refused before any call is read.
/// This link owns the inner link: it completes the inner input when its receive loop ends and
/// disposes the inner link after its send loop has drained.
/// </remarks>
internal sealed class PskLink : RpcLink
{
    internal static readonly byte[] Label = "rpcgen psk v1"u8.ToArray();
    private static readonly byte[] s_confirmation = "rpcgen psk confirm v1"u8.ToArray();
    private const int MaxPlaintext = 16 * 1024;
    private const int TagLength = 16;
    private const int HeaderLength = 4;

    private readonly RpcLink _inner;
    private readonly ChaCha20Poly1305 _sealer;
    private readonly ChaCha20Poly1305 _opener;
    private readonly Pipe _inbound;
    private readonly Pipe _outbound;
    private ulong _sent;
    private ulong _received;
    private Task? _receiving;
    private Task? _sending;
    private int _aborted;

    private PskLink(RpcLink inner, byte[] sendKey, byte[] receiveKey)
    {
        _inner = inner;
        _sealer = new ChaCha20Poly1305(sendKey);
        _opener = new ChaCha20Poly1305(receiveKey);
        var options = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
        _inbound = new Pipe(options);
        _outbound = new Pipe(options);
    }

    public override PipeReader Input => _inbound.Reader;

    public override PipeWriter Output => _outbound.Writer;

    public override string LocalAddress => _inner.LocalAddress;

    public override string RemoteAddress => _inner.RemoteAddress;

    public override RpcPeerIdentity? PeerIdentity => _inner.PeerIdentity;

    /// <summary>Exchanges the confirmation records, then starts the loops.</summary>
    public static async ValueTask<RpcLink> StartAsync(RpcLink inner, byte[] sendKey, byte[] receiveKey, CancellationToken cancellationToken)
    {
        var link = new PskLink(inner, sendKey, receiveKey);
        link.Seal(s_confirmation, inner.Output);
        await inner.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        var confirmation = await link.ReadConfirmationAsync(cancellationToken).ConfigureAwait(false);
        if (!confirmation)
        {
            link.Dispose();
            throw new RpcException(RpcStatusCode.PermissionDenied, $"The peer at {inner.RemoteAddress} does not hold the same pre-shared key: its first inner record does not authenticate.");
        }

        link._receiving = link.ReceiveLoopAsync();
        link._sending = link.SendLoopAsync();
        return link;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes from <paramref name="reader"/>.</summary>
    internal static async ValueTask<byte[]> ReadExactlyAsync(PipeReader reader, int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= count)
            {
                var bytes = buffer.Slice(0, count).ToArray();
                reader.AdvanceTo(buffer.GetPosition(count));
                return bytes;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                throw new RpcException(RpcStatusCode.PermissionDenied, "The peer closed the connection during the pre-shared-key handshake (does it use the same inner layer and hold the same pre-shared key?).");
            }
        }
    }

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        _inner.Abort();
        _inbound.Writer.CancelPendingFlush();
        _outbound.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        await _outbound.Writer.CompleteAsync().ConfigureAwait(false);
        if (_sending is not null)
        {
            await _sending.ConfigureAwait(false);
        }

        await _inner.DisposeAsync().ConfigureAwait(false);
        _inbound.Writer.CancelPendingFlush();
        if (_receiving is not null)
        {
            await _receiving.ConfigureAwait(false);
        }

        Dispose();
    }

    private void Dispose()
    {
        _sealer.Dispose();
        _opener.Dispose();
    }

    private async ValueTask<bool> ReadConfirmationAsync(CancellationToken cancellationToken)
    {
        var reader = _inner.Input;
        var plaintext = new byte[MaxPlaintext];
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var outcome = TryOpen(ref buffer, plaintext, out var length);
            if (outcome == Open.Record)
            {
                // Records that came with it stay unexamined, for the receive loop.
                reader.AdvanceTo(buffer.Start);
                return plaintext.AsSpan(0, length).SequenceEqual(s_confirmation);
            }

            reader.AdvanceTo(buffer.Start, result.Buffer.End);
            if (outcome == Open.Tampered)
            {
                return false;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                throw new RpcException(RpcStatusCode.PermissionDenied, $"The peer at {_inner.RemoteAddress} closed the connection during the pre-shared-key handshake (does it hold the same pre-shared key?).");
            }
        }
    }

    private enum Open
    {
        Incomplete,
        Record,
        Tampered,
    }

    // Opens one record from the front of buffer into plaintext; on success buffer starts after it.
    private Open TryOpen(ref ReadOnlySequence<byte> buffer, Span<byte> plaintext, out int length)
    {
        length = 0;
        if (buffer.Length < HeaderLength)
        {
            return Open.Incomplete;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        var sealedLength = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (sealedLength < TagLength || sealedLength > MaxPlaintext + TagLength)
        {
            return Open.Tampered;
        }

        if (buffer.Length < HeaderLength + sealedLength)
        {
            return Open.Incomplete;
        }

        length = (int)sealedLength - TagLength;
        var record = buffer.Slice(HeaderLength, sealedLength);
        byte[]? rented = null;
        ReadOnlySpan<byte> bytes = record.IsSingleSegment ? record.FirstSpan : CopyOut(record, rented = ArrayPool<byte>.Shared.Rent((int)sealedLength));
        try
        {
            Span<byte> nonce = stackalloc byte[12];
            BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], _received);
            _opener.Decrypt(nonce, bytes[..length], bytes.Slice(length, TagLength), plaintext[..length], header);
        }
        catch (CryptographicException)
        {
            return Open.Tampered;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        _received++;
        buffer = buffer.Slice(HeaderLength + sealedLength);
        return Open.Record;
    }

    private static ReadOnlySpan<byte> CopyOut(in ReadOnlySequence<byte> record, byte[] into)
    {
        record.CopyTo(into);
        return into.AsSpan(0, (int)record.Length);
    }

    // Seals plaintext as the next record, written into output (not flushed).
    private void Seal(ReadOnlySpan<byte> plaintext, PipeWriter output)
    {
        if (_sent == ulong.MaxValue)
        {
            throw new RpcException(RpcStatusCode.Disconnected, "The inner record counter is exhausted; the connection closes rather than reuse a nonce.");
        }

        var span = output.GetSpan(HeaderLength + plaintext.Length + TagLength);
        var header = span[..HeaderLength];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)(plaintext.Length + TagLength));
        Span<byte> nonce = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], _sent);
        _sealer.Encrypt(nonce, plaintext, span.Slice(HeaderLength, plaintext.Length), span.Slice(HeaderLength + plaintext.Length, TagLength), header);
        _sent++;
        output.Advance(HeaderLength + plaintext.Length + TagLength);
    }

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield();
        var reader = _inner.Input;
        var writer = _inbound.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var tampered = false;
                try
                {
                    while (true)
                    {
                        var outcome = TryOpen(ref buffer, writer.GetSpan(MaxPlaintext), out var length);
                        if (outcome == Open.Record)
                        {
                            writer.Advance(length);
                            continue;
                        }

                        tampered = outcome == Open.Tampered;
                        break;
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start, result.Buffer.End);
                }

                if (tampered)
                {
                    error = new RpcException(RpcStatusCode.ProtocolError, $"An inner record from {RemoteAddress} did not authenticate (tampered, or out of order); the connection was aborted.");
                    _inner.Abort();
                    break;
                }

                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (result.IsCompleted || result.IsCanceled || flush.IsCompleted || flush.IsCanceled)
                {
                    if (result.IsCompleted && !buffer.IsEmpty)
                    {
                        error = new RpcException(RpcStatusCode.Disconnected, $"The connection to {RemoteAddress} closed in the middle of an inner record.");
                    }

                    break;
                }
            }
        }
        catch (Exception ex)
        {
            error = ex as RpcException ?? new RpcException(RpcStatusCode.Disconnected, $"The connection to {RemoteAddress} was lost: {ex.Message}", ex);
        }

        await reader.CompleteAsync().ConfigureAwait(false);
        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    private async Task SendLoopAsync()
    {
        await Task.Yield();
        var reader = _outbound.Reader;
        var output = _inner.Output;
        var chunk = new byte[MaxPlaintext];
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (!buffer.IsEmpty)
                    {
                        var take = (int)Math.Min(buffer.Length, MaxPlaintext);
                        buffer.Slice(0, take).CopyTo(chunk);
                        Seal(chunk.AsSpan(0, take), output);
                        buffer = buffer.Slice(take);
                    }
                }
                finally
                {
                    reader.AdvanceTo(result.Buffer.End);
                }

                var flush = await output.FlushAsync().ConfigureAwait(false);
                if (result.IsCompleted || result.IsCanceled || flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            error = ex as RpcException ?? new RpcException(RpcStatusCode.Disconnected, $"Sending to {RemoteAddress} failed: {ex.Message}", ex);
        }

        await reader.CompleteAsync(error).ConfigureAwait(false);
    }
}
