namespace RpcGen.Compression;

/// <summary>The codecs a frame's payload may be compressed with. Values are wire constants (3 bits).</summary>
public enum RpcCompression : byte
{
    /// <summary>Not compressed.</summary>
    None = 0,

    /// <summary>LZ4 block format (K4os.Compression.LZ4), fastest level: cheap, modest ratio.</summary>
    Lz4 = 1,

    /// <summary>Zstandard (ZstdSharp), level 1: a better ratio for a little more CPU.</summary>
    Zstd = 2,

    /// <summary>Snappy raw format (Snappier).</summary>
    Snappy = 3,
}
