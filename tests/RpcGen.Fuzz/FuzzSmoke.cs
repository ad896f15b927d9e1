namespace RpcGen.Fuzz;

/// <summary>What a smoke run of one harness did.</summary>
/// <param name="Harness">The harness.</param>
/// <param name="Executions">Inputs run (corpus replays plus mutations).</param>
/// <param name="Finding">The first finding, or null.</param>
/// <param name="FindingInput">The input that produced it, or null.</param>
internal sealed record FuzzSmokeResult(string Harness, int Executions, Exception? Finding, byte[]? FindingInput);

/// <summary>
/// The in-process smoke: replays a harness's corpus, then a fixed number of deterministic mutations of
/// it, and stops at the first finding. Needs no instrumentation, so it runs in the unit tests.
/// </summary>
internal static class FuzzSmoke
{
    /// <summary>The corpus folder next to the program (copied there at build).</summary>
    public static string DefaultCorpusRoot => Path.Combine(AppContext.BaseDirectory, "corpus");

    public static IReadOnlyList<byte[]> LoadCorpus(string root, FuzzHarness harness)
    {
        var directory = Path.Combine(root, harness.Name);
        return Directory.Exists(directory)
            ? [.. Directory.GetFiles(directory).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)]
            : [];
    }

    public static FuzzSmokeResult Run(FuzzHarness harness, IReadOnlyList<byte[]> corpus, int mutations, int seed = 1)
    {
        var executions = 0;
        IEnumerable<byte[]> Inputs()
        {
            foreach (var input in corpus)
            {
                yield return input;
            }

            var mutator = new FuzzMutator(seed);
            for (var i = 0; i < mutations && corpus.Count > 0; i++)
            {
                yield return mutator.Mutate(corpus);
            }
        }

        foreach (var input in Inputs())
        {
            executions++;
            try
            {
                harness.Run(input);
            }
            catch (Exception ex)
            {
                return new FuzzSmokeResult(harness.Name, executions, ex, input);
            }
        }

        return new FuzzSmokeResult(harness.Name, executions, null, null);
    }
}
