using System.Buffers;

namespace RpcGen.Capnp;

/// <summary>
/// Builds a Cap'n Proto message into segments rented from <see cref="ArrayPool{T}"/>. Objects are
/// allocated in pre-order as they are initialized; when a segment is full the next object goes to a
/// new segment behind a far pointer, so a message of any size is built without copying. Dispose
/// returns the segments to the pool and releases the capability references the message holds.
/// </summary>
public sealed class CapnpMessageBuilder : IDisposable
{
    /// <summary>The first segment's size when none is given, like the C++ builder's suggestion.</summary>
    public const int DefaultFirstSegmentWords = 1024;

    // Segments are rented arrays; only the first Capacity words of each are used, and the first Used
    // words are allocated. Returned to the pool by Dispose. The first segment is held inline and the
    // rest in _more (created with the second), so a message that fits one segment (almost every RPC
    // message) costs no bookkeeping allocation besides the builder itself.
    private Segment _first;
    private Segment[]? _more;
    private int _segmentCount;
    private readonly int _maxSegmentWords;
    private int _nextSegmentWords;
    private List<Capability?>? _capTable;
    private CapnpMessage? _readerView;

    // Our own output: the traversal limit guards against hostile input, not against us.
    private static readonly CapnpReaderOptions OwnOutput = new() { TraversalLimitInWords = long.MaxValue / 2, MaxSegments = int.MaxValue };
    private bool _disposed;

    /// <summary>Creates a builder whose first segment holds <paramref name="firstSegmentWords"/> words.</summary>
    /// <param name="firstSegmentWords">Size of the first segment.</param>
    /// <param name="maxSegmentWords">
    /// The largest segment to allocate; objects that do not fit go to a new segment behind a far
    /// pointer. Small values are useful to test multi-segment readers.
    /// </param>
    public CapnpMessageBuilder(int firstSegmentWords = DefaultFirstSegmentWords, int maxSegmentWords = 1 << 26)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstSegmentWords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSegmentWords, 1);
        _maxSegmentWords = maxSegmentWords;
        _nextSegmentWords = Math.Min(firstSegmentWords, maxSegmentWords);
        AddSegment(1);
        _first.Used = 1; // the root pointer
    }

    /// <summary>The root pointer.</summary>
    public PointerBuilder Root => new(this, 0, 0);

    /// <summary>The number of segments so far.</summary>
    public int SegmentCount => _segmentCount;

    /// <summary>The capabilities this message's capability pointers index into. The message owns one reference to each.</summary>
    public IReadOnlyList<Capability?> CapTable => _capTable ?? (IReadOnlyList<Capability?>)[];

    /// <summary>Total words allocated across segments.</summary>
    public long TotalWords
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _segmentCount; i++)
            {
                total += At(i).Used;
            }

            return total;
        }
    }

    /// <summary>Initializes the root as a struct with the given section sizes.</summary>
    public StructBuilder InitRoot(ushort dataWords, ushort pointerCount) => Root.InitStruct(dataWords, pointerCount);

    /// <summary>The allocated part of a segment.</summary>
    public ReadOnlyMemory<byte> GetSegment(int index)
    {
        ThrowIfDisposed();
        ref var segment = ref At(index);
        return segment.Array.AsMemory(0, segment.Used * 8);
    }

    /// <summary>
    /// A reader over this message as built so far, sharing its memory (no copy) and its capability
    /// table. Valid until the builder is disposed; build no further while reading.
    /// </summary>
    public CapnpMessage AsReader()
    {
        ThrowIfDisposed();
        if (_readerView is null || _readerView.SegmentCount != _segmentCount)
        {
            var segments = new ReadOnlyMemory<byte>[_segmentCount];
            for (var i = 0; i < segments.Length; i++)
            {
                ref var segment = ref At(i);
                segments[i] = segment.Array.AsMemory(0, segment.Capacity * 8);
            }

            _readerView = new CapnpMessage(segments, OwnOutput)
            {
                CapTable = _capTable,
            };
        }

        _readerView.CapTable = _capTable;
        return _readerView;
    }

    /// <summary>Adds a reference to <paramref name="capability"/> to the capability table and returns its index.</summary>
    public uint AddCapability(Capability? capability)
    {
        ThrowIfDisposed();
        _capTable ??= [];
        _capTable.Add(capability?.Dup());
        return (uint)(_capTable.Count - 1);
    }

    /// <summary>Returns the segments to the pool and releases the capability table's references.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (var i = 0; i < _segmentCount; i++)
        {
            ref var segment = ref At(i);
            ArrayPool<byte>.Shared.Return(segment.Array);
            segment = default;
        }

        _segmentCount = 0;
        if (_capTable is not null)
        {
            foreach (var capability in _capTable)
            {
                capability?.Dispose();
            }

            _capTable.Clear();
        }
    }

    /// <summary>
    /// Set on the builders a connection makes for its own small messages (Finish, Release, a Return
    /// without results): never handed out, so once framed into the outbound queue the connection may
    /// <see cref="Reset"/> and reuse one instead of making a new one per message.
    /// </summary>
    internal bool ConnectionOwned { get; init; }

    /// <summary>
    /// Empties the message for reuse: segments after the first go back to the pool, the first is
    /// zeroed where it was used, the capability table's references are released. Only for a builder
    /// nobody else holds a <see cref="StructBuilder"/> or reader of (see <see cref="ConnectionOwned"/>).
    /// </summary>
    internal void Reset()
    {
        ThrowIfDisposed();
        for (var i = 1; i < _segmentCount; i++)
        {
            ref var segment = ref At(i);
            ArrayPool<byte>.Shared.Return(segment.Array);
            segment = default;
        }

        _segmentCount = 1;
        Array.Clear(_first.Array, 0, _first.Used * 8);
        _first.Used = 1; // the root pointer
        _nextSegmentWords = Math.Min(_first.Capacity, _maxSegmentWords);
        _readerView = null;
        if (_capTable is not null)
        {
            foreach (var capability in _capTable)
            {
                capability?.Dispose();
            }

            _capTable.Clear();
        }
    }

    internal Span<byte> SegmentSpan(int index)
    {
        ThrowIfDisposed();
        ref var segment = ref At(index);
        return segment.Array.AsSpan(0, segment.Capacity * 8);
    }

    /// <summary>Allocates <paramref name="words"/> words in <paramref name="segment"/> if they fit.</summary>
    internal bool TryAllocate(int segment, int words, out int offset)
    {
        ThrowIfDisposed();
        ref var target = ref At(segment);
        var used = target.Used;
        if (words <= target.Capacity - used)
        {
            target.Used = used + words;
            offset = used;
            return true;
        }

        offset = 0;
        return false;
    }

    /// <summary>Allocates <paramref name="words"/> words in the last segment, or in a new one.</summary>
    internal (int Segment, int Offset) Allocate(int words)
    {
        var last = _segmentCount - 1;
        if (TryAllocate(last, words, out var offset))
        {
            return (last, offset);
        }

        var segment = AddSegment(words);
        At(segment).Used = words;
        return (segment, 0);
    }

    private int AddSegment(int minimumWords)
    {
        if (minimumWords > (1 << 29) - 1)
        {
            throw new InvalidOperationException("An object of more than 2^29 words cannot be encoded.");
        }

        var words = Math.Max(minimumWords, _nextSegmentWords);
        var array = ArrayPool<byte>.Shared.Rent(words * 8);
        var capacity = Math.Max(words, Math.Min(array.Length / 8, _maxSegmentWords));
        Array.Clear(array, 0, capacity * 8);
        var index = _segmentCount;
        if (index > 0)
        {
            if (_more is null || _more.Length < index)
            {
                Array.Resize(ref _more, Math.Max(4, index * 2));
            }
        }

        _segmentCount++;
        At(index) = new Segment { Array = array, Used = 0, Capacity = capacity };

        // Grow like the C++ builder: each new segment is as large as everything so far.
        _nextSegmentWords = (int)Math.Min(Math.Max(TotalCapacity(), _nextSegmentWords), _maxSegmentWords);
        return index;
    }

    private long TotalCapacity()
    {
        long total = 0;
        for (var i = 0; i < _segmentCount; i++)
        {
            total += At(i).Capacity;
        }

        return total;
    }

    private ref Segment At(int index) => ref index == 0 ? ref _first : ref _more![index - 1];

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>One rented segment: its array, the words of it in use, and the words allocated so far.</summary>
    private struct Segment
    {
        public byte[] Array;
        public int Capacity;
        public int Used;
    }
}
