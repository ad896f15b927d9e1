using System.Buffers;

namespace RpcGen.Fuzz;

/// <summary>
/// Byte sequences in several segments, the shape a pipe reader hands a parser after several socket
/// reads. Shared as source with the parser tests (RpcGen.Transport.Message.Tests links this file).
/// </summary>
internal static class SegmentedSequence
{
    /// <summary>The bytes as one sequence cut at each of <paramref name="cuts"/>; cuts outside the bytes or not after the previous cut are ignored.</summary>
    public static ReadOnlySequence<byte> Of(byte[] bytes, params int[] cuts)
    {
        Segment? first = null;
        Segment? last = null;
        var start = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            if (cut <= start || cut > bytes.Length)
            {
                continue;
            }

            var memory = bytes.AsMemory(start, cut - start);
            last = last is null ? first = new Segment(memory, 0) : last.Append(memory);
            start = cut;
        }

        return first is null ? new ReadOnlySequence<byte>(bytes) : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
