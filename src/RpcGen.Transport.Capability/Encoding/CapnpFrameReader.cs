using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace RpcGen.Capnp;

/// <summary>
/// Reads framed messages from a byte stream as it arrives (a pipe's <see cref="ReadOnlySequence{T}"/>).
/// The segment table is validated against the limits as soon as it is complete, and only then is the
/// message buffer allocated; the body is copied out as it arrives, so a message larger than the
/// pipe's buffer threshold still flows.
/// </summary>
public sealed class CapnpFrameReader
{
    private readonly CapnpReaderOptions _options;

    // Valid from the moment a segment table is complete until the message is handed out. A new array
    // per message, never pooled: the message owns it, and RPC handlers read their parameters from it
    // on the thread pool after the reader has moved on (see HandlerQueue). The one exception is the
    // reused buffer of transient messages below, which only their owner's say-so hands out in place.
    private byte[]? _body;
    private int _segmentCount;

    // The segment sizes of the message in progress (the first _segmentCount entries). Reused from
    // message to message: it is read only until the message is handed out, and the segment count
    // limit bounds its length.
    private int[] _sizes = new int[1];
    private int _filled;
    private int _bodyLength;
    private int _headerBytes;

    private const int InitialBodyBytes = 64 * 1024;

    // Transient messages: a one-segment message of at most TransientBytes is read into _scratch, and
    // if _isTransient says its owner handles it and keeps nothing of it before asking for the next
    // (an RPC connection's Finish and Release: one of those per call), it is handed out in
    // _scratchMessage, both reused for the next such message. Anything else read there is copied into
    // an array of its own first, so what a handler may keep is never in the reused buffer. The
    // decision reads the message as its handler will (the real root pointer, with every check), so a
    // message that lies about its shape is copied, not reused. Null when the owner did not ask for it.
    private readonly Func<CapnpMessage, bool>? _isTransient;
    private byte[]? _scratch;
    private CapnpMessage? _scratchMessage;
    private const int TransientBytes = 256;

    /// <summary>Creates a reader that enforces <paramref name="options"/>.</summary>
    public CapnpFrameReader(CapnpReaderOptions? options = null)
    {
        _options = options ?? CapnpReaderOptions.Default;
        _options.Validate();
    }

    /// <summary>
    /// A reader whose small messages that <paramref name="isTransient"/> accepts are handed out in one
    /// reused buffer and message, valid only until the next <see cref="TryRead"/>; it must accept only
    /// messages the caller is done with by then, and must not throw.
    /// </summary>
    internal CapnpFrameReader(CapnpReaderOptions? options, Func<CapnpMessage, bool> isTransient)
        : this(options)
    {
        _isTransient = isTransient;
    }

    /// <summary>True when part of a message has been consumed and the rest has not arrived.</summary>
    public bool IsInsideFrame => _body is not null;

    /// <summary>
    /// The size the message in progress declared (segment table plus body bytes), from the moment its
    /// segment table is complete until it is handed out; 0 otherwise.
    /// </summary>
    public long DeclaredFrameBytes => _body is null ? 0 : (long)_headerBytes + _bodyLength;

    /// <summary>The bytes of the message in progress consumed so far (segment table plus body); 0 when none is.</summary>
    public long ConsumedFrameBytes => _body is null ? 0 : (long)_headerBytes + _filled;

    /// <summary>
    /// Consumes bytes from the front of <paramref name="buffer"/> and returns true when they complete
    /// a message. Returns false when more bytes are needed; whatever was consumed is remembered.
    /// </summary>
    /// <exception cref="CapnpDecodeException">The segment table breaks a limit.</exception>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, [NotNullWhen(true)] out CapnpMessage? message)
    {
        message = null;
        if (_body is null)
        {
            if (buffer.Length < 4)
            {
                return false;
            }

            Span<byte> first = stackalloc byte[4];
            buffer.Slice(0, 4).CopyTo(first);
            var count = CapnpFraming.ReadSegmentCount(first, _options);
            var headerBytes = CapnpFraming.HeaderBytes(count);
            if (buffer.Length < headerBytes)
            {
                return false;
            }

            var header = headerBytes <= 256 ? stackalloc byte[headerBytes] : new byte[headerBytes];
            buffer.Slice(0, headerBytes).CopyTo(header);
            if (_sizes.Length < count)
            {
                _sizes = new int[count];
            }

            CapnpFraming.ReadSegmentSizes(header, _sizes.AsSpan(0, count), _options, out var totalWords);
            _segmentCount = count;
            _bodyLength = checked((int)(totalWords * 8));

            // Grow the buffer as bytes arrive instead of trusting the declared size up front, so a
            // peer that declares a huge message and sends nothing costs little memory.
            _body = _isTransient is not null && count == 1 && _bodyLength <= TransientBytes
                ? _scratch ??= new byte[TransientBytes]
                : new byte[Math.Min(_bodyLength, InitialBodyBytes)];
            _filled = 0;
            _headerBytes = headerBytes;
            buffer = buffer.Slice(headerBytes);
        }

        while (_filled < _bodyLength && buffer.Length > 0)
        {
            if (_filled == _body.Length)
            {
                Array.Resize(ref _body, (int)Math.Min(_bodyLength, (long)_body.Length * 2));
            }

            // The reused buffer is longer than its message: never take bytes of the next one.
            var take = (int)Math.Min(Math.Min(_body.Length, _bodyLength) - _filled, buffer.Length);
            buffer.Slice(0, take).CopyTo(_body.AsSpan(_filled));
            buffer = buffer.Slice(take);
            _filled += take;
        }

        if (_filled < _bodyLength)
        {
            return false;
        }

        if (_body == _scratch)
        {
            message = TakeScratch();
        }
        else if (_segmentCount == 1)
        {
            message = new CapnpMessage(_body.AsMemory(0, _bodyLength), _options);
        }
        else
        {
            var segments = new ReadOnlyMemory<byte>[_segmentCount];
            var position = 0;
            for (var i = 0; i < segments.Length; i++)
            {
                segments[i] = _body.AsMemory(position, _sizes[i] * 8);
                position += _sizes[i] * 8;
            }

            message = new CapnpMessage(segments, _options);
        }

        _body = null;
        return true;
    }

    /// <summary>The message just read into the reused buffer: handed out in place if it is transient, else copied out.</summary>
    private CapnpMessage TakeScratch()
    {
        var bytes = _scratch.AsMemory(0, _bodyLength);
        if (_scratchMessage is null)
        {
            _scratchMessage = new CapnpMessage(bytes, _options);
        }
        else
        {
            _scratchMessage.Reset(bytes);
        }

        if (_isTransient!(_scratchMessage))
        {
            // Its handler reads it afresh: the check's reads are not charged to it.
            _scratchMessage.Reset(bytes);
            return _scratchMessage;
        }

        return new CapnpMessage(bytes.ToArray(), _options);
    }
}
