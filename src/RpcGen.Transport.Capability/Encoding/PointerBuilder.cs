using System.Buffers.Binary;
using System.Text;

namespace RpcGen.Capnp;

/// <summary>
/// A pointer slot being written: a struct's pointer field, a pointer list element, or the root.
/// Initializing it allocates the target; initializing it again zeroes the old target first, so no
/// stale bytes stay in the message.
/// </summary>
public readonly struct PointerBuilder
{
    private readonly CapnpMessageBuilder _builder;
    private readonly int _segment;
    private readonly int _word;

    internal PointerBuilder(CapnpMessageBuilder builder, int segment, int word)
    {
        _builder = builder;
        _segment = segment;
        _word = word;
    }

    /// <summary>The message being built.</summary>
    public CapnpMessageBuilder Builder => _builder;

    /// <summary>Points this slot at a new zeroed struct.</summary>
    public StructBuilder InitStruct(ushort dataWords, ushort pointerCount)
    {
        Clear();
        var words = dataWords + pointerCount;
        if (words == 0)
        {
            // A zero-sized struct is not a null pointer: its offset is -1, pointing at the pointer itself.
            WriteWord(_segment, _word, WirePointer.Struct(-1, 0, 0));
            return new StructBuilder(_builder, _segment, _word << 3, 0, _word, 0);
        }

        var (segment, word) = AllocateTarget(words, out var tagSegment, out var tagWord);
        WriteWord(tagSegment, tagWord, WirePointer.Struct(word - (tagWord + 1), dataWords, pointerCount));
        return new StructBuilder(_builder, segment, word << 3, dataWords, word + dataWords, pointerCount);
    }

    /// <summary>Points this slot at a new zeroed list of primitives or pointers.</summary>
    public ListBuilder InitList(ElementSize elementSize, int count)
    {
        if (elementSize == ElementSize.InlineComposite)
        {
            throw new ArgumentException("Use InitStructList for lists of structs.", nameof(elementSize));
        }

        if ((uint)count > WirePointer.MaxListElements)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "A list holds at most 2^29 - 1 elements.");
        }

        Clear();
        var words = checked((int)WirePointer.WordsFor(elementSize, count));
        var (segment, word) = AllocateTarget(words, out var tagSegment, out var tagWord);
        WriteWord(tagSegment, tagWord, WirePointer.List(word - (tagWord + 1), elementSize, count));
        var dataBits = WirePointer.DataBitsPerElement(elementSize);
        var pointers = WirePointer.PointersPerElement(elementSize);
        return new ListBuilder(_builder, segment, word << 3, count, dataBits + (pointers * 64), dataBits, (ushort)pointers, elementSize);
    }

    /// <summary>Points this slot at a new zeroed list of structs (composite encoding, with a tag word).</summary>
    public ListBuilder InitStructList(int count, ushort dataWords, ushort pointerCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Clear();
        var wordsPerElement = dataWords + pointerCount;
        var words = checked(count * wordsPerElement);
        if (words > WirePointer.MaxListElements)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The list would exceed 2^29 - 1 words.");
        }

        var (segment, word) = AllocateTarget(words + 1, out var tagSegment, out var tagWord);
        WriteWord(tagSegment, tagWord, WirePointer.List(word - (tagWord + 1), ElementSize.InlineComposite, words));
        WriteWord(segment, word, WirePointer.Struct(count, dataWords, pointerCount));
        return new ListBuilder(_builder, segment, (word + 1) << 3, count, wordsPerElement * 64L, dataWords * 64, pointerCount, ElementSize.InlineComposite);
    }

    /// <summary>Writes text (UTF-8 plus the NUL terminator); null writes a null pointer.</summary>
    public void SetText(string? text)
    {
        if (text is null)
        {
            Clear();
            return;
        }

        var length = Encoding.UTF8.GetByteCount(text);
        var list = InitList(ElementSize.Byte, length + 1);
        Encoding.UTF8.GetBytes(text, list.RawSpan()[..length]);
    }

    /// <summary>Writes UTF-8 text bytes (without a terminator; one is added).</summary>
    public void SetText(ReadOnlySpan<byte> utf8)
    {
        var list = InitList(ElementSize.Byte, utf8.Length + 1);
        utf8.CopyTo(list.RawSpan());
    }

    /// <summary>Writes data (a byte list).</summary>
    public void SetData(ReadOnlySpan<byte> data)
    {
        var list = InitList(ElementSize.Byte, data.Length);
        data.CopyTo(list.RawSpan());
    }

    /// <summary>Writes a capability: adds a reference to the message's capability table and points at it. Null writes a null pointer.</summary>
    public void SetCapability(Capability? capability)
    {
        if (capability is null)
        {
            Clear();
            return;
        }

        SetCapabilityIndex(_builder.AddCapability(capability));
    }

    /// <summary>Writes a raw capability pointer with the given table index.</summary>
    public void SetCapabilityIndex(uint index)
    {
        Clear();
        WriteWord(_segment, _word, WirePointer.Capability(index));
    }

    /// <summary>Makes the pointer null, zeroing what it pointed to.</summary>
    public void Clear()
    {
        var pointer = ReadWord(_segment, _word);
        if (pointer != 0)
        {
            ZeroObject(_segment, _word);
            WriteWord(_segment, _word, 0);
        }
    }

    /// <summary>Reads back what was written.</summary>
    public PointerReader AsReader()
    {
        var message = _builder.AsReader();
        return new PointerReader(message, _segment, _word, message.Options.NestingLimit);
    }

    /// <summary>
    /// Deep-copies <paramref name="source"/> (from any message) into this slot. Reading the source
    /// obeys its message's limits. Capability pointers are re-pointed at this message's table,
    /// which takes a new reference to each capability.
    /// </summary>
    public void CopyFrom(PointerReader source)
    {
        switch (source.Kind)
        {
            case PointerKind.Null:
                Clear();
                break;

            case PointerKind.Struct:
                SetStruct(source.GetStruct());
                break;

            case PointerKind.List:
                CopyList(source.GetListAnySize());
                break;

            default:
                var index = source.GetCapabilityIndex()!.Value;
                var table = source.Message!.CapTable;
                if (table is null)
                {
                    SetCapabilityIndex(index);
                }
                else
                {
                    // GetCapability hands us a reference; the table takes its own, so ours is dropped.
                    using var capability = source.GetCapability();
                    SetCapability(capability);
                }

                break;
        }
    }

    /// <summary>Deep-copies a struct into this slot.</summary>
    public StructBuilder SetStruct(StructReader source)
    {
        var target = InitStruct((ushort)source.DataWords, (ushort)source.PointerCount);
        CopyStructContent(source, target);
        return target;
    }

    internal static void CopyStructContent(StructReader source, StructBuilder target)
    {
        if (source.DataBits > 0)
        {
            source.Message!.Segment(source.Segment).Slice(source.DataByte, source.DataBits >> 3).CopyTo(target.DataSpan());
        }

        for (var i = 0; i < source.PointerCount; i++)
        {
            target.GetPointer(i).CopyFrom(source.GetPointer(i));
        }
    }

    private void CopyList(ListReader source)
    {
        switch (source.ElementSize)
        {
            case ElementSize.InlineComposite:
            {
                var target = InitStructList(source.Count, (ushort)(source.DataBitsPerElement / 64), (ushort)source.PointersPerElement);
                for (var i = 0; i < source.Count; i++)
                {
                    CopyStructContent(source.GetStruct(i), target.GetStruct(i));
                }

                break;
            }

            case ElementSize.Pointer:
            {
                var target = InitList(ElementSize.Pointer, source.Count);
                for (var i = 0; i < source.Count; i++)
                {
                    target.GetPointer(i).CopyFrom(source.GetPointer(i));
                }

                break;
            }

            default:
            {
                var target = InitList(source.ElementSize, source.Count);
                var bytes = (int)(((source.Count * source.StepBits) + 7) / 8);
                source.Message!.Segment(source.Segment).Slice(source.StartByte, bytes).CopyTo(target.RawSpan());
                break;
            }
        }
    }

    /// <summary>
    /// Allocates the target object. It goes in the pointer's own segment when it fits; otherwise in
    /// another segment with a one-word landing pad in front of it, and this slot becomes a far
    /// pointer to the pad. Returns the object's location and where its struct/list pointer goes.
    /// </summary>
    private (int Segment, int Word) AllocateTarget(int words, out int tagSegment, out int tagWord)
    {
        if (_builder.TryAllocate(_segment, words, out var offset))
        {
            tagSegment = _segment;
            tagWord = _word;
            return (_segment, offset);
        }

        var (segment, pad) = _builder.Allocate(words + 1);
        WriteWord(_segment, _word, WirePointer.Far(false, pad, segment));
        tagSegment = segment;
        tagWord = pad;
        return (segment, pad + 1);
    }

    /// <summary>Zeroes the object the pointer at (segment, word) designates, recursively; our own output, so it is trusted.</summary>
    private void ZeroObject(int segment, int word)
    {
        var pointer = ReadWord(segment, word);
        switch (WirePointer.Kind(pointer))
        {
            case WirePointer.FarKind:
            {
                var padSegment = (int)WirePointer.FarSegment(pointer);
                var pad = WirePointer.FarPadOffset(pointer);
                if (WirePointer.FarIsDouble(pointer))
                {
                    var far = ReadWord(padSegment, pad);
                    var tag = ReadWord(padSegment, pad + 1);
                    ZeroContent(tag, (int)WirePointer.FarSegment(far), WirePointer.FarPadOffset(far));
                    WriteWord(padSegment, pad + 1, 0);
                }
                else
                {
                    ZeroObject(padSegment, pad);
                }

                WriteWord(padSegment, pad, 0);
                break;
            }

            case WirePointer.StructKind:
            case WirePointer.ListKind:
                ZeroContent(pointer, segment, word + 1 + WirePointer.Offset(pointer));
                break;

            default:
                break;
        }
    }

    private void ZeroContent(ulong tag, int segment, int word)
    {
        var span = _builder.SegmentSpan(segment);
        if (WirePointer.Kind(tag) == WirePointer.StructKind)
        {
            var dataWords = WirePointer.StructDataWords(tag);
            var pointers = WirePointer.StructPointerCount(tag);
            for (var i = 0; i < pointers; i++)
            {
                ZeroObject(segment, word + dataWords + i);
            }

            span.Slice(word << 3, (dataWords + pointers) << 3).Clear();
            return;
        }

        var size = WirePointer.ListElementSize(tag);
        var count = WirePointer.ListElementCount(tag);
        if (size == ElementSize.InlineComposite)
        {
            var elementTag = ReadWord(segment, word);
            var elements = (int)((uint)elementTag >> 2);
            var dataWords = WirePointer.StructDataWords(elementTag);
            var pointers = WirePointer.StructPointerCount(elementTag);
            for (var e = 0; e < elements; e++)
            {
                var element = word + 1 + (e * (dataWords + pointers));
                for (var i = 0; i < pointers; i++)
                {
                    ZeroObject(segment, element + dataWords + i);
                }
            }

            span.Slice(word << 3, (count + 1) << 3).Clear();
            return;
        }

        if (size == ElementSize.Pointer)
        {
            for (var i = 0; i < count; i++)
            {
                ZeroObject(segment, word + i);
            }
        }

        span.Slice(word << 3, (int)WirePointer.WordsFor(size, count) << 3).Clear();
    }

    private ulong ReadWord(int segment, int word) =>
        BinaryPrimitives.ReadUInt64LittleEndian(_builder.SegmentSpan(segment).Slice(word << 3, 8));

    private void WriteWord(int segment, int word, ulong value) =>
        BinaryPrimitives.WriteUInt64LittleEndian(_builder.SegmentSpan(segment).Slice(word << 3, 8), value);
}
