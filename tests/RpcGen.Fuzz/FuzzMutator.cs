using System.Buffers.Binary;

namespace RpcGen.Fuzz;

/// <summary>
/// Deterministic byte mutations of corpus inputs for the in-process smoke (no instrumentation, no
/// libFuzzer): the kinds of change libFuzzer's default mutators make, chosen by a seeded random, so a
/// smoke run is the same run every time and a finding reproduces from its iteration number.
/// </summary>
internal sealed class FuzzMutator(int seed)
{
    private static readonly int[] s_interesting = [0, 1, -1, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x10000, int.MaxValue, int.MinValue, 0x3FFFFFFF];

    private readonly Random _random = new(seed);

    public byte[] Mutate(IReadOnlyList<byte[]> corpus)
    {
        var bytes = new List<byte>(corpus[_random.Next(corpus.Count)]);
        var rounds = 1 + _random.Next(4);
        for (var round = 0; round < rounds; round++)
        {
            MutateOnce(bytes, corpus);
        }

        return [.. bytes];
    }

    private void MutateOnce(List<byte> bytes, IReadOnlyList<byte[]> corpus)
    {
        var at = bytes.Count == 0 ? 0 : _random.Next(bytes.Count);
        switch (_random.Next(8))
        {
            case 0 when bytes.Count > 0:
                bytes[at] ^= (byte)(1 << _random.Next(8));
                break;
            case 1 when bytes.Count > 0:
                bytes[at] = (byte)_random.Next(256);
                break;
            case 2:
                var inserted = new byte[1 + _random.Next(16)];
                _random.NextBytes(inserted);
                bytes.InsertRange(at, inserted);
                break;
            case 3 when bytes.Count > 0:
                bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + _random.Next(16)));
                break;
            case 4 when bytes.Count > 0:
                var length = Math.Min(bytes.Count - at, 1 + _random.Next(32));
                bytes.InsertRange(_random.Next(bytes.Count), bytes.GetRange(at, length));
                break;
            case 5 when bytes.Count >= 4:
                // A length or count field set to a boundary value is the classic parser killer.
                Span<byte> word = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(word, s_interesting[_random.Next(s_interesting.Length)]);
                at = Math.Min(at, bytes.Count - 4);
                for (var i = 0; i < 4; i++)
                {
                    bytes[at + i] = word[i];
                }

                break;
            case 6:
                var other = corpus[_random.Next(corpus.Count)];
                var from = other.Length == 0 ? 0 : _random.Next(other.Length);
                bytes.RemoveRange(at, bytes.Count - at);
                bytes.AddRange(other.AsSpan(from).ToArray());
                break;
            default:
                if (bytes.Count > 0)
                {
                    bytes.RemoveRange(at, bytes.Count - at);
                }

                break;
        }
    }
}
