using MessagePack;

namespace RpcGen.Serialization;

/// <summary>
/// Skips one MessagePack value without recursion. <see cref="MessagePackReader.Skip"/> recurses once
/// per nesting level with no limit, so a peer could overflow the stack with a deeply nested value in
/// a position the reader does not know; generated formatters skip unknown members with this instead.
/// </summary>
public static class MessagePackSkipper
{
    /// <summary>Advances <paramref name="reader"/> past the next value, including everything nested in it.</summary>
    public static void Skip(ref MessagePackReader reader)
    {
        // The values still to skip. Headers were checked against the bytes that remain, and every
        // value takes at least one byte, so this stays below the payload length.
        long pending = 1;
        while (pending > 0)
        {
            pending--;
            switch (reader.NextMessagePackType)
            {
                case MessagePackType.Array:
                    pending += reader.ReadArrayHeader();
                    break;
                case MessagePackType.Map:
                    pending += 2L * reader.ReadMapHeader();
                    break;
                default:
                    // Scalars, strings, binaries and extensions hold no nested values.
                    reader.Skip();
                    break;
            }
        }
    }
}
