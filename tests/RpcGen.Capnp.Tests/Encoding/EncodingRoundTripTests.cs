using CsCheck;

namespace RpcGen.Capnp.Tests.Encoding;

/// <summary>Builder and reader agree with each other, including the encoding rules a peer relies on.</summary>
public sealed class EncodingRoundTripTests
{
    [Fact]
    public void Data_fields_are_stored_xor_their_default_so_an_empty_struct_reads_as_defaults()
    {
        using var builder = new CapnpMessageBuilder();
        var root = builder.InitRoot(2, 0);
        root.WriteInt32(0, 42, defaultValue: 42);
        root.WriteFloat64(1, 2.5, defaultValue: 1.5);

        var reader = CapnpFraming.Read(CapnpFraming.ToArray(builder), null, out _).GetRoot();

        Assert.Equal(0u, reader.ReadUInt32(0));
        Assert.Equal(42, reader.ReadInt32(0, 42));
        Assert.Equal(2.5, reader.ReadFloat64(1, 1.5));
        Assert.Equal(7, default(StructReader).ReadInt32(0, 7));
        Assert.Equal(7, reader.ReadInt32(100, 7)); // beyond the data section: an older writer's struct
    }

    [Fact]
    public void Zero_sized_struct_is_not_a_null_pointer()
    {
        using var builder = new CapnpMessageBuilder();
        var root = builder.InitRoot(0, 2);
        root.InitStruct(0, 0, 0);

        var reader = CapnpFraming.Read(CapnpFraming.ToArray(builder), null, out _).GetRoot();

        Assert.Equal(PointerKind.Struct, reader.GetPointer(0).Kind);
        Assert.Equal(PointerKind.Null, reader.GetPointer(1).Kind);
        Assert.Equal(0, reader.ReadStruct(0).DataBits);
    }

    [Fact]
    public void Objects_that_overflow_a_segment_are_reached_through_far_pointers()
    {
        using var builder = new CapnpMessageBuilder(firstSegmentWords: 2, maxSegmentWords: 3);
        var root = builder.InitRoot(1, 3);
        root.WriteUInt64(0, 1);
        root.InitStruct(0, 1, 0).WriteUInt64(0, 2);
        root.WriteText(1, "a text long enough to need its own segment");
        var list = root.InitStructList(2, 3, 1, 1);
        for (var i = 0; i < 3; i++)
        {
            list.GetStruct(i).WriteUInt64(0, (ulong)(10 + i));
            list.GetStruct(i).WriteText(0, "e" + i);
        }

        var reader = CapnpFraming.Read(CapnpFraming.ToArray(builder), null, out _).GetRoot();

        Assert.True(builder.SegmentCount > 3);
        Assert.Equal(1ul, reader.ReadUInt64(0));
        Assert.Equal(2ul, reader.ReadStruct(0).ReadUInt64(0));
        Assert.Equal("a text long enough to need its own segment", reader.ReadText(1));
        var elements = reader.ReadList(2, ElementSize.InlineComposite);
        Assert.Equal([10ul, 11ul, 12ul], elements.Structs().Select(s => s.ReadUInt64(0)));
        Assert.Equal(["e0", "e1", "e2"], elements.Structs().Select(s => s.ReadText(0)));
    }

    [Fact]
    public void Reinitializing_a_pointer_zeroes_what_it_pointed_to()
    {
        using var builder = new CapnpMessageBuilder();
        var root = builder.InitRoot(0, 1);
        var first = root.InitStruct(0, 1, 1);
        first.WriteUInt64(0, ulong.MaxValue);
        first.WriteText(0, "secret");
        root.InitStruct(0, 1, 0);

        var bytes = builder.GetSegment(0).ToArray();

        Assert.DoesNotContain((byte)0xFF, bytes);
        Assert.False(bytes.AsSpan().IndexOf("secret"u8) >= 0);
    }

    [Fact]
    public void Copy_between_messages_preserves_content_and_leaves_the_source_alone()
    {
        using var source = new CapnpMessageBuilder(firstSegmentWords: 4, maxSegmentWords: 4);
        var root = source.InitRoot(1, 2);
        root.WriteUInt64(0, 99);
        root.WriteText(0, "copied");
        var list = root.InitList(1, ElementSize.Pointer, 2);
        list.GetPointer(0).InitStruct(1, 0).WriteUInt32(1, 5);
        list.GetPointer(1).InitList(ElementSize.Bit, 3).SetBool(2, true);

        using var target = new CapnpMessageBuilder();
        target.Root.CopyFrom(source.AsReader().Root);
        var copy = CapnpFraming.Read(CapnpFraming.ToArray(target), null, out _).GetRoot();

        Assert.Equal(1, target.SegmentCount);
        Assert.Equal(99ul, copy.ReadUInt64(0));
        Assert.Equal("copied", copy.ReadText(0));
        var copiedList = copy.ReadList(1, ElementSize.Pointer);
        Assert.Equal(5u, copiedList.GetPointer(0).GetStruct().ReadUInt32(1));
        Assert.True(copiedList.GetList(1, ElementSize.Bit).GetBool(2));
    }

    [Fact]
    public void Primitive_list_reads_as_struct_list_and_struct_list_reads_as_primitive_list()
    {
        using var builder = new CapnpMessageBuilder();
        var root = builder.InitRoot(0, 3);
        var ints = root.InitList(0, ElementSize.FourBytes, 2);
        ints.SetUInt32(0, 7);
        ints.SetUInt32(1, 8);
        var structs = root.InitStructList(1, 2, 1, 1);
        structs.GetStruct(0).WriteUInt32(0, 70);
        structs.GetStruct(1).WriteUInt32(0, 80);
        root.InitList(2, ElementSize.Bit, 4);
        var reader = builder.AsReader().GetRoot();

        var upgraded = reader.ReadList(0, ElementSize.InlineComposite);
        var downgraded = reader.ReadList(1, ElementSize.FourBytes);

        Assert.Equal([7u, 8u], upgraded.Structs().Select(s => s.ReadUInt32(0)));
        Assert.Equal(0u, upgraded.GetStruct(0).ReadUInt32(1)); // beyond the 32-bit element: default
        Assert.Equal([70u, 80u], Enumerable.Range(0, 2).Select(downgraded.GetUInt32));
        Assert.Throws<CapnpDecodeException>(() => reader.ReadList(2, ElementSize.InlineComposite));
        Assert.Throws<CapnpDecodeException>(() => reader.ReadList(0, ElementSize.EightBytes));
        Assert.Throws<CapnpDecodeException>(() => reader.ReadList(0, ElementSize.Pointer));
    }

    [Fact]
    public void Frame_reader_assembles_messages_split_at_every_byte()
    {
        using var builder = new CapnpMessageBuilder(firstSegmentWords: 2, maxSegmentWords: 2);
        var root = builder.InitRoot(1, 1);
        root.WriteUInt64(0, 0x0102030405060708);
        root.WriteText(0, "split");
        var framed = CapnpFraming.ToArray(builder);
        var twice = framed.Concat(framed).ToArray();

        // Like a pipe: bytes arrive one at a time, and what the reader leaves unconsumed is offered again.
        var reader = new CapnpFrameReader();
        var messages = new List<CapnpMessage>();
        var consumedUpTo = 0;
        for (var arrived = 1; arrived <= twice.Length; arrived++)
        {
            var buffer = new System.Buffers.ReadOnlySequence<byte>(twice, consumedUpTo, arrived - consumedUpTo);
            while (reader.TryRead(ref buffer, out var message))
            {
                messages.Add(message);
            }

            consumedUpTo = arrived - (int)buffer.Length;
        }

        Assert.Equal(2, messages.Count);
        Assert.All(messages, m => Assert.Equal("split", m.GetRoot().ReadText(0)));
        Assert.False(reader.IsInsideFrame);
    }

    [Fact]
    public void Packing_round_trips_any_words()
    {
        Gen.Byte.Select(b => b < 128 ? (byte)0 : b).Array[0, 400]
            .Select(bytes => bytes.Length % 8 == 0 ? bytes : bytes[..(bytes.Length / 8 * 8)])
            .Sample(words =>
            {
                var packed = CapnpPacking.Pack(words);
                var unpacked = new byte[words.Length];
                var consumed = CapnpPacking.Unpack(packed, unpacked);
                Assert.Equal(packed.Length, consumed);
                Assert.Equal(words, unpacked);
            });
    }

    [Fact]
    public void Packing_matches_the_examples_in_the_encoding_spec()
    {
        byte[] typical = [0x08, 0, 0, 0, 0x03, 0, 0x02, 0, 0x19, 0, 0, 0, 0xaa, 0x01, 0, 0];
        Assert.Equal(new byte[] { 0x51, 0x08, 0x03, 0x02, 0x31, 0x19, 0xaa, 0x01 }, CapnpPacking.Pack(typical));
        Assert.Equal(new byte[] { 0x00, 0x03 }, CapnpPacking.Pack(new byte[32]));
        var nonZero = Enumerable.Repeat((byte)0x8a, 32).ToArray();
        Assert.Equal([0xff, .. Enumerable.Repeat((byte)0x8a, 8), 0x03, .. Enumerable.Repeat((byte)0x8a, 24)], CapnpPacking.Pack(nonZero));
    }

    [Fact]
    public void Random_struct_content_round_trips_through_framing()
    {
        Gen.Select(Gen.ULong.Array[1, 8], Gen.String[0, 40].Array[0, 5]).Sample((words, texts) =>
        {
            using var builder = new CapnpMessageBuilder(firstSegmentWords: 3, maxSegmentWords: 5);
            var root = builder.InitRoot((ushort)words.Length, 1);
            for (var i = 0; i < words.Length; i++)
            {
                root.WriteUInt64(i, words[i]);
            }

            var list = root.InitList(0, ElementSize.Pointer, texts.Length);
            for (var i = 0; i < texts.Length; i++)
            {
                list.SetText(i, texts[i]);
            }

            var reader = CapnpFraming.Read(CapnpFraming.ToArray(builder), null, out _).GetRoot();
            Assert.Equal(words, Enumerable.Range(0, words.Length).Select(i => reader.ReadUInt64(i)));
            var readTexts = reader.ReadList(0, ElementSize.Pointer);
            Assert.Equal(texts.Select(t => System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(t))), Enumerable.Range(0, readTexts.Count).Select(i => readTexts.GetText(i)));
        });
    }
}
