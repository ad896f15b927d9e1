using System.Buffers;
using System.Numerics;

namespace RpcGen.Capnp;

/// <summary>
/// The packing compression of the encoding spec: each word becomes a tag byte (one bit per non-zero
/// byte) and its non-zero bytes; tag 0x00 is followed by a count of further zero words, and tag 0xFF
/// by a count of words copied verbatim.
/// </summary>
public static class CapnpPacking
{
    /// <summary>Packs <paramref name="words"/> (a whole number of words) into <paramref name="output"/>.</summary>
    public static void Pack(ReadOnlySpan<byte> words, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (words.Length % 8 != 0)
        {
            throw new ArgumentException("Packing works on whole words.", nameof(words));
        }

        var position = 0;
        Span<byte> packed = stackalloc byte[10];
        while (position < words.Length)
        {
            var word = words.Slice(position, 8);
            position += 8;
            byte tag = 0;
            var length = 1;
            for (var i = 0; i < 8; i++)
            {
                if (word[i] != 0)
                {
                    tag |= (byte)(1 << i);
                    packed[length++] = word[i];
                }
            }

            packed[0] = tag;
            if (tag == 0)
            {
                var run = 0;
                while (run < 255 && position < words.Length && IsZero(words.Slice(position, 8)))
                {
                    run++;
                    position += 8;
                }

                packed[1] = (byte)run;
                output.Write(packed[..2]);
            }
            else if (tag == 0xFF)
            {
                // Words with at most one zero byte gain nothing from tags; copy them verbatim.
                var run = 0;
                while (run < 255 && position + (run * 8) < words.Length && ZeroBytes(words.Slice(position + (run * 8), 8)) <= 1)
                {
                    run++;
                }

                packed[9] = (byte)run;
                output.Write(packed[..10]);
                output.Write(words.Slice(position, run * 8));
                position += run * 8;
            }
            else
            {
                output.Write(packed[..length]);
            }
        }
    }

    /// <summary>Packs into a new array.</summary>
    public static byte[] Pack(ReadOnlySpan<byte> words)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Pack(words, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Unpacks exactly <paramref name="output"/>.Length bytes (a whole number of words) and returns how
    /// many packed bytes were consumed. A run that would extend past the output is an error.
    /// </summary>
    public static int Unpack(ReadOnlySpan<byte> packed, Span<byte> output)
    {
        var decoder = new PackedDecoder(packed);
        decoder.ReadWords(output);
        decoder.EnsureNoPendingRun();
        return decoder.Position;
    }

    private static bool IsZero(ReadOnlySpan<byte> word) => ZeroBytes(word) == 8;

    private static int ZeroBytes(ReadOnlySpan<byte> word)
    {
        var zeros = 0;
        foreach (var b in word)
        {
            if (b == 0)
            {
                zeros++;
            }
        }

        return zeros;
    }
}

/// <summary>Decodes packed words on demand, remembering a zero or verbatim run that spans two reads.</summary>
internal ref struct PackedDecoder
{
    private readonly ReadOnlySpan<byte> _input;
    private int _position;
    private int _pendingZeroWords;
    private int _pendingRawWords;

    public PackedDecoder(ReadOnlySpan<byte> input)
    {
        _input = input;
    }

    public readonly int Position => _position;

    /// <summary>An upper bound on the words the rest of the input can produce (a zero run of 256 words costs 2 bytes).</summary>
    public readonly long MaxWordsRemaining => _pendingZeroWords + _pendingRawWords + (128L * (_input.Length - _position)) + 1;

    public void ReadWords(scoped Span<byte> destination)
    {
        if (destination.Length % 8 != 0)
        {
            throw new ArgumentException("Unpacking works on whole words.", nameof(destination));
        }

        var written = 0;
        while (written < destination.Length)
        {
            var wordsLeft = (destination.Length - written) / 8;
            if (_pendingZeroWords > 0)
            {
                var n = Math.Min(_pendingZeroWords, wordsLeft);
                destination.Slice(written, n * 8).Clear();
                written += n * 8;
                _pendingZeroWords -= n;
                continue;
            }

            if (_pendingRawWords > 0)
            {
                var n = Math.Min(_pendingRawWords, wordsLeft);
                Take(n * 8).CopyTo(destination.Slice(written));
                written += n * 8;
                _pendingRawWords -= n;
                continue;
            }

            var tag = Take(1)[0];
            var word = destination.Slice(written, 8);
            var bytes = Take(BitOperations.PopCount(tag));
            var next = 0;
            for (var i = 0; i < 8; i++)
            {
                word[i] = (tag & (1 << i)) != 0 ? bytes[next++] : (byte)0;
            }

            written += 8;
            if (tag == 0)
            {
                _pendingZeroWords = Take(1)[0];
            }
            else if (tag == 0xFF)
            {
                _pendingRawWords = Take(1)[0];
            }
        }
    }

    public readonly void EnsureNoPendingRun()
    {
        if (_pendingZeroWords > 0 || _pendingRawWords > 0)
        {
            throw new CapnpDecodeException("A packed run extends past the end of the message.");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_input.Length - _position < count)
        {
            throw new CapnpDecodeException("The packed message is truncated.");
        }

        var slice = _input.Slice(_position, count);
        _position += count;
        return slice;
    }
}
