namespace RpcGen.Fuzz;

/// <summary>
/// One parser under fuzz. <see cref="Run"/> feeds it one hostile input: the parser's documented
/// rejections are caught inside, so anything that escapes (any other exception, or a broken
/// invariant as <see cref="FuzzInvariantException"/>) is a finding.
/// </summary>
internal abstract class FuzzHarness
{
    /// <summary>The name on the command line and the corpus folder (<c>corpus/&lt;name&gt;</c>).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The most bytes one input may make the harness allocate: beyond it the parser trusted a length
    /// the input did not pay for. A fixed allowance covers first-use initialisation (formatter
    /// tables, pools); the rest is in proportion to the input.
    /// </summary>
    public virtual long AllocationBound(int inputLength) => (1L << 20) + (64L * inputLength);

    /// <summary>Parses <paramref name="input"/>; throws only for a finding.</summary>
    protected abstract void Parse(ReadOnlySpan<byte> input);

    /// <summary>Produces seeds by running the real writers (and, where there is one, a real client and server).</summary>
    public abstract Task<IReadOnlyList<FuzzSeed>> CaptureSeedsAsync();

    /// <summary>
    /// A byte stream as a framing loop sees it: the first input byte says where the rest is cut into
    /// two segments (as two socket reads would leave it), so the multi-segment paths run too.
    /// </summary>
    protected static System.Buffers.ReadOnlySequence<byte> StreamOf(ReadOnlySpan<byte> input) =>
        input.IsEmpty ? default : SegmentedSequence.Of(input[1..].ToArray(), input[0]);

    /// <summary>
    /// The bytes allocated so far that an input is charged with: this thread's, since a harness runs its
    /// parser on the calling thread. A harness whose parser runs on other threads too (a live server)
    /// counts the whole process's instead.
    /// </summary>
    protected virtual long AllocatedBytes() => GC.GetAllocatedBytesForCurrentThread();

    /// <summary>The checked-in prefix of a live-conversation harness (see <see cref="FuzzSeed.IsPrefix"/>).</summary>
    protected byte[] LoadPrefix() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "prefix", Name + ".bin"));

    /// <summary>Runs one input and checks what it cost.</summary>
    public void Run(ReadOnlySpan<byte> input)
    {
        var before = AllocatedBytes();
        Parse(input);
        var allocated = AllocatedBytes() - before;
        var bound = AllocationBound(input.Length);
        if (allocated > bound)
        {
            throw new FuzzInvariantException($"{Name}: an input of {input.Length} bytes made the parser allocate {allocated} bytes, over the bound of {bound}.");
        }
    }
}

/// <summary>One seed input, named after what produced it.</summary>
/// <param name="Name">The file name, without <c>.bin</c>.</param>
/// <param name="Bytes">The input.</param>
/// <param name="IsPrefix">
/// Not an input but the scripted start of a live conversation that the harness replays before each
/// input (<c>prefix/&lt;harness&gt;.bin</c>, beside the corpus); libFuzzer never mutates it.
/// </param>
internal sealed record FuzzSeed(string Name, byte[] Bytes, bool IsPrefix = false);

/// <summary>A harness's own check failed: the parser accepted or produced something it must not.</summary>
internal sealed class FuzzInvariantException(string message) : Exception(message);
