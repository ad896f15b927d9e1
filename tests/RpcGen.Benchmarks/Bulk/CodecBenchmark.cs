using System.Diagnostics;
using RpcGen.Compression;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>
/// Times <see cref="RpcCodecs.TryCompress"/> and <see cref="RpcCodecs.Decompress"/> on a payload cut
/// into 64 KiB blocks, the way the message transport compresses a <see cref="Stream"/>'s chunks (one
/// frame each). A block that does not shrink is counted at its raw size, as the transport sends it.
/// </summary>
public static class CodecBenchmark
{
    public static CodecResult Run(string payloadName, byte[] payload, RpcCompression codec, int runs)
    {
        var blockCount = (payload.Length + BulkOptions.ChunkBytes - 1) / BulkOptions.ChunkBytes;
        var bound = RpcCodecs.MaxCompressedLength(codec, BulkOptions.ChunkBytes);
        var compressed = new byte[(long)bound * blockCount];
        var lengths = new int[blockCount];
        var restored = new byte[payload.Length];

        // Warm up on a few blocks so the measured passes run tiered code with the codec state made.
        var warmupBlocks = Math.Min(blockCount, 8);
        CompressAll(codec, payload, compressed, bound, lengths.AsSpan(0, warmupBlocks));
        DecompressAll(codec, compressed, bound, lengths.AsSpan(0, warmupBlocks), restored);

        var compressSeconds = new List<double>(runs);
        var decompressSeconds = new List<double>(runs);
        for (var run = 0; run < runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            CompressAll(codec, payload, compressed, bound, lengths);
            compressSeconds.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);

            started = Stopwatch.GetTimestamp();
            DecompressAll(codec, compressed, bound, lengths, restored);
            decompressSeconds.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        long output = 0;
        long decompressed = 0;
        var rawBlocks = 0;
        for (var block = 0; block < blockCount; block++)
        {
            var blockLength = BlockLength(payload.Length, block);
            if (lengths[block] < 0)
            {
                rawBlocks++;
                output += blockLength;
                // The transport would send this block as it is.
                payload.AsSpan(block * BulkOptions.ChunkBytes, blockLength).CopyTo(restored.AsSpan(block * BulkOptions.ChunkBytes));
            }
            else
            {
                output += lengths[block];
                decompressed += blockLength;
            }
        }

        if (!payload.AsSpan().SequenceEqual(restored))
        {
            throw new InvalidDataException($"{codec} did not give back the {payloadName} payload it was given.");
        }

        return new CodecResult
        {
            Payload = payloadName,
            Codec = codec,
            InputBytes = payload.Length,
            OutputBytes = output,
            Blocks = blockCount,
            RawBlocks = rawBlocks,
            CompressSeconds = BulkMath.Median(compressSeconds),
            DecompressSeconds = decompressed == 0 ? null : BulkMath.Median(decompressSeconds),
            DecompressedBytes = decompressed,
        };
    }

    private static void CompressAll(RpcCompression codec, byte[] payload, byte[] compressed, int bound, Span<int> lengths)
    {
        for (var block = 0; block < lengths.Length; block++)
        {
            var source = payload.AsSpan(block * BulkOptions.ChunkBytes, BlockLength(payload.Length, block));
            lengths[block] = RpcCodecs.TryCompress(codec, source, compressed.AsSpan((int)((long)block * bound), bound));
        }
    }

    private static void DecompressAll(RpcCompression codec, byte[] compressed, int bound, ReadOnlySpan<int> lengths, byte[] restored)
    {
        for (var block = 0; block < lengths.Length; block++)
        {
            if (lengths[block] >= 0)
            {
                var destination = restored.AsSpan(block * BulkOptions.ChunkBytes, BlockLength(restored.Length, block));
                RpcCodecs.Decompress(codec, compressed.AsSpan((int)((long)block * bound), lengths[block]), destination);
            }
        }
    }

    private static int BlockLength(int total, int block) => Math.Min(BulkOptions.ChunkBytes, total - (block * BulkOptions.ChunkBytes));
}
