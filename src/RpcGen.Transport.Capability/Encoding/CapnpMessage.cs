using System.Buffers.Binary;

namespace RpcGen.Capnp;

/// <summary>
/// A Cap'n Proto message being read: its segments, the limits that bound the read, and the
/// capability table its capability pointers index into. Pointers are validated lazily, when a
/// getter follows them, like the C++ reader; every follow is charged against the traversal limit.
/// </summary>
/// <remarks>
/// A message is not thread-safe: the traversal counter is shared by every reader made from it.
/// </remarks>
public sealed class CapnpMessage
{
    // The first segment inline; the others (if any) in _more, so a one-segment message (almost every
    // RPC message) needs no array of segments.
    private ReadOnlyMemory<byte> _first;
    private readonly ReadOnlyMemory<byte>[]? _more;
    private readonly int _segmentCount;
    private long _traversalRemaining;

    /// <summary>Wraps segments that are already in memory. Each segment's length must be a multiple of 8 bytes.</summary>
    public CapnpMessage(ReadOnlyMemory<byte>[] segments, CapnpReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(segments);
        Options = options ?? CapnpReaderOptions.Default;
        if (segments.Length == 0)
        {
            throw new CapnpDecodeException("A message needs at least one segment.");
        }

        if (segments.Length > Options.MaxSegments)
        {
            throw new CapnpDecodeException($"The message has {segments.Length} segments; the limit is {Options.MaxSegments}.");
        }

        foreach (var segment in segments)
        {
            CheckWholeWords(segment);
        }

        _first = segments[0];
        _more = segments.Length > 1 ? segments : null;
        _segmentCount = segments.Length;
        _traversalRemaining = Options.TraversalLimitInWords;
    }

    /// <summary>Wraps a single segment.</summary>
    public CapnpMessage(ReadOnlyMemory<byte> segment, CapnpReaderOptions? options = null)
    {
        Options = options ?? CapnpReaderOptions.Default;
        CheckWholeWords(segment);
        _first = segment;
        _segmentCount = 1;
        _traversalRemaining = Options.TraversalLimitInWords;
    }

    /// <summary>
    /// Points a one-segment message at <paramref name="segment"/>, as if it were new (traversal budget,
    /// no capability table): the frame reader's one reused message for kinds nothing keeps (see
    /// <see cref="CapnpFrameReader"/>).
    /// </summary>
    internal void Reset(ReadOnlyMemory<byte> segment)
    {
        if (_segmentCount != 1)
        {
            throw new InvalidOperationException("Only a one-segment message can be reset.");
        }

        CheckWholeWords(segment);
        _first = segment;
        _traversalRemaining = Options.TraversalLimitInWords;
        CapTable = null;
        LendingCall = null;
    }

    /// <summary>The limits this message is read under.</summary>
    public CapnpReaderOptions Options { get; }

    /// <summary>The number of segments.</summary>
    public int SegmentCount => _segmentCount;

    /// <summary>
    /// The capabilities that capability pointers in this message index into. Set by the RPC layer
    /// when the message arrives; null for plain data messages.
    /// </summary>
    public IReadOnlyList<Capability?>? CapTable { get; set; }

    /// <summary>
    /// Set while this message holds the parameters of a call a local server is handling: typed
    /// proxies read from it are lent to that call (<see cref="CapnpServiceRegistry.ReadService{TService}"/>).
    /// </summary>
    internal CallRequest? LendingCall { get; set; }

    /// <summary>Total size of the segments in words.</summary>
    public long TotalWords
    {
        get
        {
            long words = 0;
            for (var i = 0; i < _segmentCount; i++)
            {
                words += GetSegment(i).Length / 8;
            }

            return words;
        }
    }

    /// <summary>Words left before the traversal limit is reached.</summary>
    public long TraversalRemaining => _traversalRemaining;

    /// <summary>The root pointer: the first word of the first segment.</summary>
    public PointerReader Root
    {
        get
        {
            if (_first.Length < 8)
            {
                throw new CapnpDecodeException("The message is empty: its first segment has no root pointer.");
            }

            return new PointerReader(this, 0, 0, Options.NestingLimit);
        }
    }

    /// <summary>The root struct.</summary>
    public StructReader GetRoot() => Root.GetStruct();

    /// <summary>A segment's bytes.</summary>
    public ReadOnlyMemory<byte> GetSegment(int index) => index == 0 ? _first : _more![index];

    internal ReadOnlySpan<byte> Segment(int index) => GetSegment(index).Span;

    internal int SegmentWords(int index) => GetSegment(index).Length >> 3;

    internal ulong ReadWord(int segment, int word) =>
        BinaryPrimitives.ReadUInt64LittleEndian(GetSegment(segment).Span.Slice(word << 3, 8));

    internal void ChargeTraversal(long words)
    {
        _traversalRemaining -= words;
        if (_traversalRemaining < 0)
        {
            throw new CapnpDecodeException(
                $"The traversal limit of {Options.TraversalLimitInWords} words was exceeded; the message is too large or its pointers overlap (an amplification attack).");
        }
    }

    /// <summary>
    /// Reads the pointer at (<paramref name="segment"/>, <paramref name="word"/>) and follows at most
    /// one far pointer. Returns false for a null pointer. On success <paramref name="tag"/> is the
    /// pointer that describes the target (the pointer itself, the landing pad, or a double-far tag),
    /// and the target location is where the object's content starts. Capability pointers return
    /// their own location as the target.
    /// </summary>
    internal bool TryFollow(int segment, int word, out ulong tag, out int targetSegment, out int targetWord)
    {
        var pointer = ReadWord(segment, word);
        if (pointer == 0)
        {
            tag = 0;
            targetSegment = 0;
            targetWord = 0;
            return false;
        }

        if (WirePointer.Kind(pointer) != WirePointer.FarKind)
        {
            tag = pointer;
            targetSegment = segment;
            targetWord = word + 1 + WirePointer.Offset(pointer);
            return true;
        }

        var padSegment = CheckSegmentId(WirePointer.FarSegment(pointer));
        var padWord = WirePointer.FarPadOffset(pointer);
        var isDouble = WirePointer.FarIsDouble(pointer);
        var padWords = isDouble ? 2 : 1;
        if ((long)padWord + padWords > SegmentWords(padSegment))
        {
            throw new CapnpDecodeException("A far pointer's landing pad lies outside its segment.");
        }

        ChargeTraversal(padWords);
        var pad = ReadWord(padSegment, padWord);
        if (!isDouble)
        {
            if (pad == 0)
            {
                tag = 0;
                targetSegment = 0;
                targetWord = 0;
                return false;
            }

            if (WirePointer.Kind(pad) == WirePointer.FarKind)
            {
                throw new CapnpDecodeException("A far pointer's landing pad is itself a far pointer.");
            }

            tag = pad;
            targetSegment = padSegment;
            targetWord = padWord + 1 + WirePointer.Offset(pad);
            return true;
        }

        if (WirePointer.Kind(pad) != WirePointer.FarKind || WirePointer.FarIsDouble(pad))
        {
            throw new CapnpDecodeException("A double-far landing pad does not start with a single far pointer.");
        }

        tag = ReadWord(padSegment, padWord + 1);
        if (WirePointer.Kind(tag) == WirePointer.FarKind || WirePointer.Kind(tag) == WirePointer.OtherKind)
        {
            throw new CapnpDecodeException("A double-far landing pad's tag is not a struct or list pointer.");
        }

        targetSegment = CheckSegmentId(WirePointer.FarSegment(pad));
        targetWord = WirePointer.FarPadOffset(pad);
        return true;
    }

    internal void CheckBounds(int segment, int word, long words, string what)
    {
        if (word < 0 || word + words > SegmentWords(segment))
        {
            throw new CapnpDecodeException($"A {what} pointer points outside its segment.");
        }
    }

    private static void CheckWholeWords(ReadOnlyMemory<byte> segment)
    {
        if (segment.Length % 8 != 0)
        {
            throw new CapnpDecodeException("A segment's length is not a whole number of words.");
        }
    }

    private int CheckSegmentId(uint id)
    {
        if (id >= (uint)_segmentCount)
        {
            throw new CapnpDecodeException($"A far pointer names segment {id}, but the message has {_segmentCount}.");
        }

        return (int)id;
    }
}
