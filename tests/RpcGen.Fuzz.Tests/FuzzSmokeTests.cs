namespace RpcGen.Fuzz.Tests;

/// <summary>
/// Every harness replays its checked-in corpus plus deterministic mutations of it without a finding
/// (an exception other than the parser's documented rejection, a broken invariant, or an allocation
/// beyond the harness's bound). libFuzzer runs are tests/RpcGen.Fuzz/run.sh; this is the CI smoke.
/// </summary>
public sealed class FuzzSmokeTests
{
    // Enough to pass every mutation kind over every seed many times; a few seconds per harness on a busy machine.
    private const int Mutations = 4000;

    public static TheoryData<string> Harnesses => [.. FuzzHarnesses.All.Select(h => h.Name)];

    [Theory]
    [MemberData(nameof(Harnesses))]
    public void Corpus_and_mutations_find_nothing(string name)
    {
        var harness = FuzzHarnesses.Find(name);
        var corpus = FuzzSmoke.LoadCorpus(FuzzSmoke.DefaultCorpusRoot, harness);
        Assert.NotEmpty(corpus);

        var result = FuzzSmoke.Run(harness, corpus, Mutations);

        Assert.True(result.Finding is null, $"{name}: input {Convert.ToHexString(result.FindingInput ?? [])} gave {result.Finding}");
        Assert.Equal(corpus.Count + Mutations, result.Executions);
    }

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task Seeds_captured_now_parse_without_a_finding(string name)
    {
        // The capture runs real clients and servers over loopback TCP, so this also proves the seed
        // generator still works against the current protocol.
        var harness = FuzzHarnesses.Find(name);

        var seeds = await harness.CaptureSeedsAsync().WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        Assert.NotEmpty(seeds);
        Assert.All(seeds, seed => Assert.NotEmpty(seed.Bytes));
        var result = FuzzSmoke.Run(harness, [.. seeds.Select(s => s.Bytes)], mutations: 0);
        Assert.True(result.Finding is null, $"{name}: {result.Finding}");
    }
}
