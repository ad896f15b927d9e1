namespace RpcGen.Capnp;

/// <summary>
/// Limits that bound what reading one message can cost, whatever its bytes say. The defaults match
/// the C++ reference implementation's <c>ReaderOptions</c>.
/// </summary>
public sealed class CapnpReaderOptions
{
    /// <summary>The defaults: 8 Mi words (64 MiB) of traversal, 64 levels of nesting, 512 segments.</summary>
    public static CapnpReaderOptions Default { get; } = new();

    /// <summary>
    /// How many words a reader may visit in one message, counting every time a pointer is followed
    /// (so overlapping pointers are charged twice) and a list of zero-sized elements as one word per
    /// element. Also the largest message a stream may declare. Default 8 Mi words.
    /// </summary>
    public long TraversalLimitInWords { get; init; } = 8L * 1024 * 1024;

    /// <summary>How many pointers deep a reader may go from the root. Default 64.</summary>
    public int NestingLimit { get; init; } = 64;

    /// <summary>The most segments a stream frame may declare. Default 512, like the C++ implementation.</summary>
    public int MaxSegments { get; init; } = 512;

    /// <summary>Throws when a value is unusable.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(TraversalLimitInWords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(NestingLimit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSegments, 1);
    }
}
