namespace RpcGen.Capnp;

/// <summary>
/// The canonical form of a message (encoding spec, "Canonicalization"): one segment, objects in
/// pre-order, trailing zero data words and null pointers truncated (jointly across a struct list),
/// zero-sized structs at offset -1. Two messages with the same meaning have the same canonical
/// bytes, which is what signing and hashing need. Capability pointers are not allowed.
/// </summary>
public static class CapnpCanonical
{
    /// <summary>The canonical words of the message rooted at <paramref name="root"/>, without a segment table.</summary>
    public static byte[] Canonicalize(StructReader root)
    {
        var words = 1 + MeasureStruct(root);
        using var builder = new CapnpMessageBuilder(checked((int)words), checked((int)words));
        var target = builder.Root.InitStruct((ushort)TrimmedDataWords(root), (ushort)TrimmedPointers(root));
        CopyStruct(root, target);
        if (builder.SegmentCount != 1 || builder.TotalWords != words)
        {
            throw new InvalidOperationException("Canonicalization did not produce a single segment of the measured size.");
        }

        return builder.GetSegment(0).ToArray();
    }

    private static long MeasureStruct(StructReader source)
    {
        long words = TrimmedDataWords(source) + TrimmedPointers(source);
        for (var i = 0; i < TrimmedPointers(source); i++)
        {
            words += MeasurePointer(source.GetPointer(i));
        }

        return words;
    }

    private static long MeasurePointer(PointerReader pointer)
    {
        switch (pointer.Kind)
        {
            case PointerKind.Null:
                return 0;
            case PointerKind.Struct:
                return MeasureStruct(pointer.GetStruct());
            case PointerKind.Capability:
                throw new InvalidOperationException("A message with capabilities has no canonical form.");
        }

        var list = pointer.GetListAnySize();
        switch (list.ElementSize)
        {
            case ElementSize.InlineComposite:
            {
                var (dataWords, pointers) = TrimmedListElement(list);
                long words = 1 + ((long)list.Count * (dataWords + pointers));
                for (var e = 0; e < list.Count; e++)
                {
                    var element = list.GetStruct(e);
                    for (var i = 0; i < pointers; i++)
                    {
                        words += MeasurePointer(element.GetPointer(i));
                    }
                }

                return words;
            }

            case ElementSize.Pointer:
            {
                long words = list.Count;
                for (var i = 0; i < list.Count; i++)
                {
                    words += MeasurePointer(list.GetPointer(i));
                }

                return words;
            }

            default:
                return WirePointer.WordsFor(list.ElementSize, list.Count);
        }
    }

    private static void CopyStruct(StructReader source, StructBuilder target)
    {
        source.Message?.Segment(source.Segment).Slice(source.DataByte, target.DataWords * 8).CopyTo(target.DataSpan());
        for (var i = 0; i < target.PointerCount; i++)
        {
            CopyPointer(source.GetPointer(i), target.GetPointer(i));
        }
    }

    private static void CopyPointer(PointerReader source, PointerBuilder target)
    {
        switch (source.Kind)
        {
            case PointerKind.Null:
                return;
            case PointerKind.Struct:
            {
                var s = source.GetStruct();
                CopyStruct(s, target.InitStruct((ushort)TrimmedDataWords(s), (ushort)TrimmedPointers(s)));
                return;
            }

            case PointerKind.Capability:
                throw new InvalidOperationException("A message with capabilities has no canonical form.");
        }

        var list = source.GetListAnySize();
        if (list.ElementSize == ElementSize.InlineComposite)
        {
            var (dataWords, pointers) = TrimmedListElement(list);
            var targetList = target.InitStructList(list.Count, (ushort)dataWords, (ushort)pointers);
            for (var e = 0; e < list.Count; e++)
            {
                CopyStruct(list.GetStruct(e), targetList.GetStruct(e));
            }

            return;
        }

        if (list.ElementSize == ElementSize.Pointer)
        {
            var targetList = target.InitList(ElementSize.Pointer, list.Count);
            for (var i = 0; i < list.Count; i++)
            {
                CopyPointer(list.GetPointer(i), targetList.GetPointer(i));
            }

            return;
        }

        // Primitive lists have no padding to trim.
        target.CopyFrom(source);
    }

    private static int TrimmedDataWords(StructReader source)
    {
        if (source.Message is null)
        {
            return 0;
        }

        var data = source.Message.Segment(source.Segment).Slice(source.DataByte, source.DataBits >> 3);
        var words = source.DataWords;
        while (words > 0)
        {
            var start = (words - 1) * 8;
            var end = Math.Min(words * 8, data.Length);
            if (data[start..end].ContainsAnyExcept((byte)0))
            {
                break;
            }

            words--;
        }

        return words;
    }

    private static int TrimmedPointers(StructReader source)
    {
        var pointers = source.PointerCount;
        while (pointers > 0 && source.GetPointer(pointers - 1).IsNull)
        {
            pointers--;
        }

        return pointers;
    }

    private static (int DataWords, int Pointers) TrimmedListElement(ListReader list)
    {
        int dataWords = 0, pointers = 0;
        for (var e = 0; e < list.Count; e++)
        {
            var element = list.GetStruct(e);
            dataWords = Math.Max(dataWords, TrimmedDataWords(element));
            pointers = Math.Max(pointers, TrimmedPointers(element));
        }

        return (dataWords, pointers);
    }
}
