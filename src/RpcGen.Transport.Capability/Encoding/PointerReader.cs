using System.Text;

namespace RpcGen.Capnp;

/// <summary>
/// A pointer slot being read (a struct's pointer field, a pointer list element, or the message
/// root), not yet followed. Following it checks the target's bounds, charges the traversal limit and
/// spends one level of nesting. The default value is a null pointer.
/// </summary>
public readonly struct PointerReader
{
    private readonly CapnpMessage? _message;
    private readonly int _segment;
    private readonly int _word;
    private readonly int _nestingLimit;

    internal PointerReader(CapnpMessage message, int segment, int word, int nestingLimit)
    {
        _message = message;
        _segment = segment;
        _word = word;
        _nestingLimit = nestingLimit;
    }

    /// <summary>The message this pointer lives in; null for the default (null) pointer.</summary>
    public CapnpMessage? Message => _message;

    /// <summary>True when the pointer is null (all zero, or a far pointer to a null landing pad).</summary>
    public bool IsNull => Kind == PointerKind.Null;

    /// <summary>What the pointer points at.</summary>
    public PointerKind Kind
    {
        get
        {
            if (_message is null || !_message.TryFollow(_segment, _word, out var tag, out _, out _))
            {
                return PointerKind.Null;
            }

            return WirePointer.Kind(tag) switch
            {
                WirePointer.StructKind => PointerKind.Struct,
                WirePointer.ListKind => PointerKind.List,
                _ => PointerKind.Capability,
            };
        }
    }

    /// <summary>Reads the struct; a null pointer reads as a struct whose fields are all default.</summary>
    public StructReader GetStruct() => GetStruct(default);

    /// <summary>Reads the struct; a null pointer reads as <paramref name="defaultValue"/>.</summary>
    public StructReader GetStruct(StructReader defaultValue)
    {
        if (_message is null)
        {
            return defaultValue;
        }

        CheckNesting();
        if (!_message.TryFollow(_segment, _word, out var tag, out var segment, out var word))
        {
            return defaultValue;
        }

        if (WirePointer.Kind(tag) != WirePointer.StructKind)
        {
            throw new CapnpDecodeException("Expected a struct pointer but found a " + Describe(tag) + " pointer.");
        }

        var dataWords = WirePointer.StructDataWords(tag);
        var pointerCount = WirePointer.StructPointerCount(tag);
        var words = dataWords + pointerCount;
        _message.CheckBounds(segment, word, words, "struct");
        _message.ChargeTraversal(Math.Max(words, 1));
        return new StructReader(_message, segment, word << 3, dataWords * 64, word + dataWords, pointerCount, _nestingLimit - 1);
    }

    /// <summary>
    /// Reads a list whose elements must be at least as large as <paramref name="expected"/>:
    /// the encoding's upgrade rules let a struct list be read as a list of primitives (its first
    /// data field) and a primitive or pointer list be read as a struct list, but a bit list is only
    /// ever a bit list. A null pointer reads as an empty list.
    /// </summary>
    public ListReader GetList(ElementSize expected)
    {
        var list = GetListAnySize();
        if (list.Message is null)
        {
            return list;
        }

        CheckCompatible(list, expected);
        return list;
    }

    /// <summary>Reads text: a NUL-terminated byte list, returned without the NUL. A null pointer reads as <paramref name="defaultValue"/>.</summary>
    public string? GetText(string? defaultValue = "")
    {
        var bytes = GetTextBytes(out var isNull);
        return isNull ? defaultValue : Encoding.UTF8.GetString(bytes.Span);
    }

    /// <summary>Reads the UTF-8 bytes of a text value without the NUL terminator, or empty for a null pointer.</summary>
    public ReadOnlyMemory<byte> GetTextBytes(out bool isNull)
    {
        var list = GetListAnySize();
        isNull = list.Message is null;
        if (isNull)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        if (list.ElementSize != ElementSize.Byte)
        {
            throw new CapnpDecodeException("Expected text (a byte list) but found a list of another element size.");
        }

        if (list.Count == 0)
        {
            throw new CapnpDecodeException("Text is not NUL-terminated: the byte list is empty.");
        }

        var memory = list.RawBytes();
        if (memory.Span[^1] != 0)
        {
            throw new CapnpDecodeException("Text is not NUL-terminated.");
        }

        return memory[..^1];
    }

    /// <summary>Reads data: a byte list. A null pointer reads as empty.</summary>
    public ReadOnlyMemory<byte> GetData()
    {
        var list = GetListAnySize();
        if (list.Message is null)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        if (list.ElementSize != ElementSize.Byte)
        {
            throw new CapnpDecodeException("Expected data (a byte list) but found a list of another element size.");
        }

        return list.RawBytes();
    }

    /// <summary>The capability table index of a capability pointer, or null for a null pointer.</summary>
    public uint? GetCapabilityIndex()
    {
        if (_message is null)
        {
            return null;
        }

        // Capability pointers are never reached through far pointers: they are one word and can
        // always be written in place.
        var pointer = _message.ReadWord(_segment, _word);
        if (pointer == 0)
        {
            return null;
        }

        if (WirePointer.Kind(pointer) != WirePointer.OtherKind)
        {
            throw new CapnpDecodeException("Expected a capability pointer but found a " + Describe(pointer) + " pointer.");
        }

        if ((uint)pointer >> 2 != 0)
        {
            throw new CapnpDecodeException("Found an 'other' pointer of an unknown kind (only capability pointers are defined).");
        }

        return (uint)(pointer >> 32);
    }

    /// <summary>
    /// The capability this pointer designates, as a new reference the caller owns and must dispose;
    /// null for a null pointer. Throws when the index is outside the message's capability table.
    /// </summary>
    public Capability? GetCapability()
    {
        var index = GetCapabilityIndex();
        if (index is null)
        {
            return null;
        }

        var table = _message!.CapTable;
        if (table is null || index.Value >= (uint)table.Count)
        {
            throw new CapnpDecodeException($"A capability pointer has index {index.Value}, outside the message's capability table.");
        }

        return table[(int)index.Value]?.Dup();
    }

    /// <summary>Reads a list without checking its element size against an expectation.</summary>
    internal ListReader GetListAnySize()
    {
        if (_message is null)
        {
            return default;
        }

        CheckNesting();
        if (!_message.TryFollow(_segment, _word, out var tag, out var segment, out var word))
        {
            return default;
        }

        if (WirePointer.Kind(tag) != WirePointer.ListKind)
        {
            throw new CapnpDecodeException("Expected a list pointer but found a " + Describe(tag) + " pointer.");
        }

        var size = WirePointer.ListElementSize(tag);
        if (size == ElementSize.InlineComposite)
        {
            var words = WirePointer.ListElementCount(tag);
            _message.CheckBounds(segment, word, 1L + words, "list");
            var elementTag = _message.ReadWord(segment, word);
            if (WirePointer.Kind(elementTag) != WirePointer.StructKind)
            {
                throw new CapnpDecodeException("A composite list's tag word is not a struct tag.");
            }

            var count = (int)((uint)elementTag >> 2);
            var dataWords = WirePointer.StructDataWords(elementTag);
            var pointerCount = WirePointer.StructPointerCount(elementTag);
            var wordsPerElement = dataWords + pointerCount;
            if ((long)count * wordsPerElement > words)
            {
                throw new CapnpDecodeException("A composite list's elements overrun the size its pointer declares.");
            }

            _message.ChargeTraversal(1L + words);
            if (wordsPerElement == 0)
            {
                // Zero-sized elements cost nothing on the wire; charge them anyway so a tiny message
                // cannot make a reader loop over millions of elements.
                _message.ChargeTraversal(count);
            }

            return new ListReader(_message, segment, (word + 1) << 3, count, wordsPerElement * 64L, dataWords * 64, pointerCount, size, _nestingLimit - 1);
        }

        var elementCount = WirePointer.ListElementCount(tag);
        var dataBits = WirePointer.DataBitsPerElement(size);
        var pointers = WirePointer.PointersPerElement(size);
        long step = dataBits + (pointers * 64);
        var totalWords = ((elementCount * step) + 63) / 64;
        _message.CheckBounds(segment, word, totalWords, "list");
        _message.ChargeTraversal(totalWords);
        if (step == 0)
        {
            _message.ChargeTraversal(elementCount);
        }

        return new ListReader(_message, segment, word << 3, elementCount, step, dataBits, (ushort)pointers, size, _nestingLimit - 1);
    }

    internal static void CheckCompatible(ListReader list, ElementSize expected)
    {
        var actual = list.ElementSize;
        if (expected == ElementSize.Bit || actual == ElementSize.Bit)
        {
            if (expected != actual && expected != ElementSize.Empty)
            {
                throw new CapnpDecodeException(expected == ElementSize.Bit
                    ? "Expected a list of Bool but found a list of another element size."
                    : "Found a list of Bool where a list of wider elements was expected; Bool lists cannot be upgraded.");
            }

            return;
        }

        if (expected is ElementSize.InlineComposite or ElementSize.Empty)
        {
            return;
        }

        var expectedBits = WirePointer.DataBitsPerElement(expected);
        var expectedPointers = WirePointer.PointersPerElement(expected);
        if (list.DataBitsPerElement < expectedBits || list.PointersPerElement < expectedPointers)
        {
            throw new CapnpDecodeException($"Expected a list of {expected} elements but found a list of {actual} elements.");
        }
    }

    private void CheckNesting()
    {
        if (_nestingLimit <= 0)
        {
            throw new CapnpDecodeException("The nesting limit was exceeded: the message is too deeply nested or its pointers form a cycle.");
        }
    }

    private static string Describe(ulong pointer) => WirePointer.Kind(pointer) switch
    {
        WirePointer.StructKind => "struct",
        WirePointer.ListKind => "list",
        WirePointer.FarKind => "far",
        _ => "capability",
    };
}
