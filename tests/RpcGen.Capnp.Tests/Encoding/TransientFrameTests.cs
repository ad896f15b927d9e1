using System.Buffers;

namespace RpcGen.Capnp.Tests.Encoding;

/// <summary>
/// The frame reader's reused buffer for small messages its owner keeps nothing of (a connection's
/// Finish and Release): each such message is read on its own, and a message its owner may keep is
/// never left in the reused buffer.
/// </summary>
public sealed class TransientFrameTests
{
    [Fact]
    public void Small_transient_messages_back_to_back_are_each_read_whole_in_the_reused_message()
    {
        var framed = new[] { "first", "second", "third" }.SelectMany(Frame).ToArray();

        // All at once: each message stops where it ends, though the reused buffer is longer.
        var reader = new CapnpFrameReader(null, _ => true);
        var buffer = new ReadOnlySequence<byte>(framed);
        var texts = new List<string>();
        var instances = new HashSet<CapnpMessage>(ReferenceEqualityComparer.Instance);
        while (reader.TryRead(ref buffer, out var message))
        {
            texts.Add(message.GetRoot().ReadText(0) ?? "(null)");
            instances.Add(message);
        }

        Assert.Equal(["first", "second", "third"], texts);
        Assert.Single(instances);
        Assert.True(buffer.IsEmpty);

        // Byte by byte, as a slow link delivers them.
        Assert.Equal(["first", "second", "third"], ReadByteByByte(new CapnpFrameReader(null, _ => true), framed));
    }

    [Fact]
    public void A_small_message_the_owner_may_keep_is_copied_out_of_the_reused_buffer()
    {
        var framed = new[] { "kept", "transient", "kept too" }.SelectMany(Frame).ToArray();
        var reader = new CapnpFrameReader(null, message => message.GetRoot().ReadText(0) == "transient");
        var buffer = new ReadOnlySequence<byte>(framed);
        var messages = new List<CapnpMessage>();
        while (reader.TryRead(ref buffer, out var message))
        {
            messages.Add(message);
        }

        // Read after the later messages went through the reused buffer: the kept ones are their own.
        Assert.Equal("kept", messages[0].GetRoot().ReadText(0));
        Assert.Equal("kept too", messages[2].GetRoot().ReadText(0));
        Assert.NotSame(messages[0], messages[1]);
        Assert.NotSame(messages[1], messages[2]);
    }

    [Fact]
    public void A_message_that_cannot_be_read_is_not_taken_as_transient_and_fails_where_it_is_read()
    {
        // A root pointer that points outside its one-word segment: the owner's check throws, and the
        // reader must not; the message is handed out (copied) and fails when its handler reads it.
        var framed = new byte[] { 0, 0, 0, 0, 1, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0 };
        var reader = new CapnpFrameReader(null, message =>
        {
            try
            {
                return message.GetRoot().ReadUInt16(0) == 0;
            }
            catch (CapnpDecodeException)
            {
                return false;
            }
        });
        var buffer = new ReadOnlySequence<byte>(framed);

        Assert.True(reader.TryRead(ref buffer, out var read));
        Assert.Throws<CapnpDecodeException>(() => read.GetRoot());
    }

    private static byte[] Frame(string text)
    {
        using var builder = new CapnpMessageBuilder(firstSegmentWords: 8);
        builder.InitRoot(0, 1).WriteText(0, text);
        return CapnpFraming.ToArray(builder);
    }

    private static List<string> ReadByteByByte(CapnpFrameReader reader, byte[] framed)
    {
        var texts = new List<string>();
        var consumedUpTo = 0;
        for (var arrived = 1; arrived <= framed.Length; arrived++)
        {
            var buffer = new ReadOnlySequence<byte>(framed, consumedUpTo, arrived - consumedUpTo);
            while (reader.TryRead(ref buffer, out var message))
            {
                texts.Add(message.GetRoot().ReadText(0) ?? "(null)");
            }

            consumedUpTo = arrived - (int)buffer.Length;
        }

        return texts;
    }
}
