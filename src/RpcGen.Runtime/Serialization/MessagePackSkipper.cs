using MessagePack;

namespace RpcGen.Serialization;

/// <summary>
/// Skips one MessagePack value without recursion. <see cref="MessagePackReader.Skip"/> recurses once
/// per nesting level with no limit, so a peer could overflow the stack with a deeply nested value in
/// a position the reader does not know; generated formatters skip unknown members with this instead.
/// </summary>
public static class MessagePackSkipper
{
    /// <summary>
    /// Advances <paramref name="reader"/> past the next value, including everything nested in it.
    /// Nesting deeper than <see cref="RpcSerializer.MaxDepth"/> (counted from the reader's current
    /// depth) throws <see cref="MessagePackSerializationException"/>, as reading it would.
    /// </summary>
    public static void Skip(ref MessagePackReader reader)
    {
        if (reader.NextMessagePackType is not (MessagePackType.Array or MessagePackType.Map))
        {
            // Scalars, strings, binaries and extensions hold no nested values.
            reader.Skip();
            return;
        }

        // One entry per open array or map, innermost on top: the values it still holds. Headers
        // were checked against the bytes that remain, so no count exceeds the payload.
        var open = new Stack<long>();
        open.Push(1);
        while (open.Count > 0)
        {
            var remaining = open.Pop();
            if (remaining == 0)
            {
                continue;
            }

            open.Push(remaining - 1);
            switch (reader.NextMessagePackType)
            {
                case MessagePackType.Array:
                    Enter(ref reader, open, reader.ReadArrayHeader());
                    break;
                case MessagePackType.Map:
                    Enter(ref reader, open, 2L * reader.ReadMapHeader());
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
    }

    private static void Enter(ref MessagePackReader reader, Stack<long> open, long count)
    {
        // The bottom entry stands for the value being skipped, not for a nesting level.
        if (reader.Depth + open.Count > RpcSerializer.MaxDepth)
        {
            throw new MessagePackSerializationException($"The payload nests deeper than {RpcSerializer.MaxDepth} levels.");
        }

        open.Push(count);
    }
}
