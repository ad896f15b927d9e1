using K4os.Compression.LZ4;
using Snappier;
using ZstdSharp;

namespace RpcGen.Compression;

/// <summary>
/// Compresses and decompresses payloads. Decompression writes into a buffer of exactly the size the
/// sender declared (which the caller has already checked against its limit), so hostile input can
/// never make it allocate or write past that: a bomb, a truncation or a wrong codec id all end in
/// <see cref="InvalidDataException"/>.
/// </summary>
public static class RpcCodecs
{
    [ThreadStatic]
    private static Compressor? t_zstdCompressor;

    [ThreadStatic]
    private static Decompressor? t_zstdDecompressor;

    /// <summary>Whether <paramref name="codec"/> is one this version knows.</summary>
    public static bool IsDefined(RpcCompression codec) => codec is >= RpcCompression.None and <= RpcCompression.Snappy;

    /// <summary>The largest output <see cref="TryCompress"/> may need for <paramref name="length"/> input bytes.</summary>
    public static int MaxCompressedLength(RpcCompression codec, int length) => codec switch
    {
        RpcCompression.Lz4 => LZ4Codec.MaximumOutputSize(length),
        RpcCompression.Zstd => checked((int)Compressor.GetCompressBound(length)),
        RpcCompression.Snappy => Snappy.GetMaxCompressedLength(length),
        _ => length,
    };

    /// <summary>
    /// Compresses <paramref name="source"/> into <paramref name="destination"/>; returns the bytes
    /// written, or -1 when the result would not be smaller than the input (send it raw then).
    /// </summary>
    public static int TryCompress(RpcCompression codec, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int written;
        switch (codec)
        {
            case RpcCompression.Lz4:
                written = LZ4Codec.Encode(source, destination, LZ4Level.L00_FAST);
                break;
            case RpcCompression.Zstd:
                t_zstdCompressor ??= new Compressor(1);
                written = t_zstdCompressor.Wrap(source, destination);
                break;
            case RpcCompression.Snappy:
                written = Snappy.Compress(source, destination);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(codec), codec, "Not a compression codec.");
        }

        return written > 0 && written < source.Length ? written : -1;
    }

    /// <summary>
    /// Decompresses <paramref name="source"/> into all of <paramref name="destination"/>. Throws
    /// <see cref="InvalidDataException"/> unless the input decodes to exactly that many bytes.
    /// </summary>
    public static void Decompress(RpcCompression codec, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int written;
        try
        {
            switch (codec)
            {
                case RpcCompression.Lz4:
                    written = LZ4Codec.Decode(source, destination);
                    break;
                case RpcCompression.Zstd:
                    t_zstdDecompressor ??= new Decompressor();
                    written = t_zstdDecompressor.Unwrap(source, destination);
                    break;
                case RpcCompression.Snappy:
                    if (Snappy.GetUncompressedLength(source) != destination.Length)
                    {
                        throw new InvalidDataException("The Snappy stream's length does not match the declared size.");
                    }

                    written = Snappy.Decompress(source, destination);
                    break;
                default:
                    throw new InvalidDataException($"Unknown compression codec {(byte)codec}.");
            }
        }
        catch (Exception ex) when (ex is ZstdException or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new InvalidDataException($"The {codec} payload is corrupt or larger than declared: {ex.Message}", ex);
        }

        if (written != destination.Length)
        {
            throw new InvalidDataException($"The {codec} payload decoded to {(written < 0 ? "nothing valid" : written + " bytes")}, not the {destination.Length} bytes declared.");
        }
    }
}
