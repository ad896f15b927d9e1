using System.Buffers;
using System.Buffers.Binary;

namespace RpcGen.Capnp.Tests.Encoding;

/// <summary>
/// Messages a hostile peer could send. Each must end in a <see cref="CapnpDecodeException"/> that
/// says what is wrong, never in a hang, a crash, or a large allocation.
/// </summary>
public sealed class HostileInputTests
{
    private static readonly CapnpReaderOptions Small = new() { TraversalLimitInWords = 10_000, NestingLimit = 64 };

    [Fact]
    public void Struct_pointer_past_the_end_of_its_segment_is_rejected()
    {
        var message = Raw([Pointer.Struct(0, 5, 0)]);
        AssertDecodeError(() => message.GetRoot(), "outside its segment");
    }

    [Fact]
    public void Struct_pointer_before_the_start_of_its_segment_is_rejected()
    {
        var message = Raw([Pointer.Struct(-5, 1, 0), 0]);
        AssertDecodeError(() => message.GetRoot(), "outside its segment");
    }

    [Fact]
    public void List_longer_than_its_segment_is_rejected()
    {
        var message = Raw([Pointer.Struct(0, 0, 1), Pointer.List(0, ElementSize.FourBytes, 100), 0]);
        AssertDecodeError(() => message.GetRoot().ReadList(0, ElementSize.FourBytes), "outside its segment");
    }

    [Fact]
    public void Far_pointer_to_a_missing_segment_is_rejected()
    {
        var message = Raw([Pointer.Far(false, 0, 7)]);
        AssertDecodeError(() => message.GetRoot(), "segment 7");
    }

    [Fact]
    public void Far_pointer_whose_landing_pad_is_outside_its_segment_is_rejected()
    {
        var message = Raw([Pointer.Far(false, 5, 1)], [0]);
        AssertDecodeError(() => message.GetRoot(), "landing pad lies outside");
    }

    [Fact]
    public void Far_pointers_that_point_at_each_other_are_rejected_not_followed_forever()
    {
        var message = Raw([Pointer.Far(false, 0, 1)], [Pointer.Far(false, 0, 0)]);
        AssertDecodeError(() => message.GetRoot(), "itself a far pointer");
    }

    [Fact]
    public void Double_far_pad_without_a_far_pointer_is_rejected()
    {
        var message = Raw([Pointer.Far(true, 0, 1)], [Pointer.Struct(0, 1, 0), 0]);
        AssertDecodeError(() => message.GetRoot(), "double-far");
    }

    [Fact]
    public void Valid_double_far_pointer_is_followed()
    {
        var message = Raw([Pointer.Far(true, 0, 1)], [Pointer.Far(false, 0, 2), Pointer.Struct(0, 1, 0)], [42]);
        Assert.Equal(42ul, message.GetRoot().ReadUInt64(0));
    }

    [Fact]
    public void Composite_list_whose_tag_is_not_a_struct_is_rejected()
    {
        var message = Raw([Pointer.Struct(0, 0, 1), Pointer.List(0, ElementSize.InlineComposite, 1), Pointer.List(0, ElementSize.Byte, 1), 0]);
        AssertDecodeError(() => message.GetRoot().ReadList(0, ElementSize.InlineComposite), "tag word is not a struct tag");
    }

    [Fact]
    public void Composite_list_whose_elements_overrun_its_declared_words_is_rejected()
    {
        var message = Raw([Pointer.Struct(0, 0, 1), Pointer.List(0, ElementSize.InlineComposite, 1), Pointer.Struct(5, 1, 0), 0]);
        AssertDecodeError(() => message.GetRoot().ReadList(0, ElementSize.InlineComposite), "overrun");
    }

    [Fact]
    public void Huge_list_of_void_is_charged_per_element_against_the_traversal_limit()
    {
        var message = Raw([Pointer.Struct(0, 0, 1), Pointer.List(0, ElementSize.Empty, (1 << 29) - 1)], CapnpReaderOptions.Default);
        AssertDecodeError(() => message.GetRoot().ReadList(0, ElementSize.Empty), "traversal limit");
    }

    [Fact]
    public void Huge_list_of_empty_structs_is_charged_per_element_against_the_traversal_limit()
    {
        var message = Raw([Pointer.Struct(0, 0, 1), Pointer.List(0, ElementSize.InlineComposite, 0), Pointer.Struct((1 << 30) - 1, 0, 0)], CapnpReaderOptions.Default);
        AssertDecodeError(() => message.GetRoot().ReadList(0, ElementSize.InlineComposite), "traversal limit");
    }

    [Fact]
    public void Overlapping_pointers_are_charged_each_time_and_stop_at_the_traversal_limit()
    {
        // 100 pointers to the same 1000-word struct: 100,000 words of traversal from a 1,101-word message.
        var words = new ulong[1 + 100 + 1000];
        words[0] = Pointer.Struct(0, 0, 100);
        for (var i = 0; i < 100; i++)
        {
            words[1 + i] = Pointer.Struct(99 - i, 1000, 0);
        }

        var root = Raw(words).GetRoot();
        AssertDecodeError(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                root.ReadStruct(i);
            }
        }, "traversal limit");
    }

    [Fact]
    public void Pointer_cycle_stops_at_the_nesting_limit()
    {
        // The struct's only pointer points back at the struct itself.
        var message = Raw([Pointer.Struct(0, 0, 1), Pointer.Struct(-1, 0, 1)]);
        AssertDecodeError(() =>
        {
            var s = message.GetRoot();
            for (var i = 0; i < 1000; i++)
            {
                s = s.ReadStruct(0);
            }
        }, "nesting limit");

        using var copy = new CapnpMessageBuilder();
        AssertDecodeError(() => copy.Root.CopyFrom(message.Root), "nesting limit");
    }

    [Fact]
    public void Segment_table_with_four_billion_segments_is_rejected_before_allocating()
    {
        byte[] bytes = [0xff, 0xff, 0xff, 0xff];
        AssertDecodeError(() => CapnpFraming.Read(bytes, null, out _), "segments");
        var buffer = new ReadOnlySequence<byte>(bytes);
        AssertDecodeError(() => new CapnpFrameReader().TryRead(ref buffer, out _), "segments");
    }

    [Fact]
    public void Segment_larger_than_the_traversal_limit_is_rejected_before_allocating()
    {
        byte[] bytes = [0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f];
        var buffer = new ReadOnlySequence<byte>(bytes);
        AssertDecodeError(() => new CapnpFrameReader().TryRead(ref buffer, out _), "too large");
    }

    [Fact]
    public void Truncated_message_is_rejected()
    {
        byte[] bytes = [0, 0, 0, 0, 2, 0, 0, 0, .. new byte[8]];
        AssertDecodeError(() => CapnpFraming.Read(bytes, null, out _), "truncated");
    }

    [Fact]
    public void Declared_size_without_the_bytes_costs_little_memory()
    {
        // A 4 Mi-word (32 MiB) message that never arrives.
        byte[] bytes = [0, 0, 0, 0, 0, 0, 0x40, 0, .. new byte[16]];
        var reader = new CapnpFrameReader();
        var buffer = new ReadOnlySequence<byte>(bytes);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var complete = reader.TryRead(ref buffer, out _);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.False(complete);
        Assert.True(reader.IsInsideFrame);
        Assert.True(allocated < 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Packed_input_that_stops_mid_word_is_rejected()
    {
        AssertDecodeError(() => CapnpFraming.ReadPacked([0xff, 1, 2], null, out _), "truncated");
    }

    [Fact]
    public void Packed_zero_run_past_the_end_of_the_message_is_rejected()
    {
        // Segment table (1 segment of 1 word), then a zero root word that claims 5 more zero words.
        byte[] packed = [0x10, 0x01, 0x00, 0x05];
        AssertDecodeError(() => CapnpFraming.ReadPacked(packed, null, out _), "past the end");
    }

    [Fact]
    public void Packed_message_declaring_more_words_than_its_bytes_can_hold_is_rejected_before_allocating()
    {
        byte[] packed = [0x70, 0xff, 0xff, 0x7f];
        AssertDecodeError(() => CapnpFraming.ReadPacked(packed, null, out _), "remaining bytes");
    }

    [Fact]
    public void Text_without_its_terminator_is_rejected()
    {
        var message = Raw([Pointer.Struct(0, 0, 1), Pointer.List(0, ElementSize.Byte, 3), 0x636261]);
        AssertDecodeError(() => message.GetRoot().ReadText(0), "NUL-terminated");
    }

    [Fact]
    public void Text_encoded_as_a_list_of_words_is_rejected()
    {
        var message = Raw([Pointer.Struct(0, 0, 1), Pointer.List(0, ElementSize.FourBytes, 1), 0]);
        AssertDecodeError(() => message.GetRoot().ReadText(0), "byte list");
    }

    [Fact]
    public void Pointer_of_the_wrong_kind_is_rejected()
    {
        var message = Raw([Pointer.Struct(0, 0, 2), Pointer.List(1, ElementSize.Byte, 0), Pointer.Struct(-1, 0, 0)]);
        AssertDecodeError(() => message.GetRoot().ReadStruct(0), "Expected a struct pointer");
        AssertDecodeError(() => message.GetRoot().ReadList(1, ElementSize.Byte), "Expected a list pointer");
    }

    [Fact]
    public void Unknown_other_pointer_and_capability_index_outside_the_table_are_rejected()
    {
        var message = Raw([Pointer.Struct(0, 0, 2), 3 | (1 << 2), 3 | (5ul << 32)]);
        AssertDecodeError(() => message.GetRoot().GetPointer(0).GetCapabilityIndex(), "unknown kind");
        AssertDecodeError(() => message.GetRoot().ReadCapability(1), "outside the message's capability table");
    }

    private static CapnpMessage Raw(params ulong[][] segments) => Raw(segments, Small);

    private static CapnpMessage Raw(ulong[] segment, CapnpReaderOptions options) => Raw([segment], options);

    private static CapnpMessage Raw(ulong[][] segments, CapnpReaderOptions options)
    {
        var memories = segments.Select(words =>
        {
            var bytes = new byte[words.Length * 8];
            for (var i = 0; i < words.Length; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), words[i]);
            }

            return (ReadOnlyMemory<byte>)bytes;
        }).ToArray();
        return new CapnpMessage(memories, options);
    }

    private static void AssertDecodeError(Action action, string expectedFragment)
    {
        var error = Assert.Throws<CapnpDecodeException>(action);
        Assert.Contains(expectedFragment, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static void AssertDecodeError(Func<object?> action, string expectedFragment) => AssertDecodeError(() => { _ = action(); }, expectedFragment);

    /// <summary>Hand-made pointer words (the test's own encoding, independent of the library's helpers).</summary>
    private static class Pointer
    {
        public static ulong Struct(int offset, ushort dataWords, ushort pointers) =>
            ((ulong)(uint)(offset << 2)) | ((ulong)dataWords << 32) | ((ulong)pointers << 48);

        public static ulong List(int offset, ElementSize size, int count) =>
            ((ulong)(uint)(offset << 2)) | 1 | ((ulong)size << 32) | ((ulong)(uint)count << 35);

        public static ulong Far(bool isDouble, int pad, uint segment) =>
            ((ulong)(uint)(pad << 3)) | (isDouble ? 4ul : 0) | 2 | ((ulong)segment << 32);
    }
}
