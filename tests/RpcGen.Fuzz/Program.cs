using RpcGen.Fuzz;
using SharpFuzz;

// Modes (see README.md here):
//   <harness>                          run under libFuzzer: only the native driver (run.sh) starts this mode
//   seed <harness|all> <corpus-dir>    write seeds from real captures into <corpus-dir>/<harness>/
//   smoke [harness|all] [mutations]    replay the corpus and deterministic mutations in-process
//   replay <harness> <file>...         run saved inputs once each (reproduce a finding)
if (args.Length == 0)
{
    Console.Error.WriteLine($"usage: RpcGen.Fuzz <harness> | seed <harness|all> <dir> | smoke [harness|all] [mutations] | replay <harness> <file>...\nharnesses: {string.Join(", ", FuzzHarnesses.All.Select(h => h.Name))}");
    return 2;
}

switch (args[0])
{
    case "seed":
        foreach (var harness in Select(args.ElementAtOrDefault(1)))
        {
            var root = args.ElementAtOrDefault(2) ?? "corpus";
            var directory = Path.Combine(root, harness.Name);
            Directory.CreateDirectory(directory);
            foreach (var seed in await harness.CaptureSeedsAsync())
            {
                // A live harness's prefix goes beside the corpus, where libFuzzer does not read it as an input.
                var path = seed.IsPrefix
                    ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(root))!, "prefix", harness.Name + ".bin")
                    : Path.Combine(directory, seed.Name + ".bin");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllBytesAsync(path, seed.Bytes);
                Console.WriteLine($"{path}: {seed.Bytes.Length} bytes");
            }
        }

        return 0;

    case "smoke":
        var mutations = int.TryParse(args.ElementAtOrDefault(2), out var count) ? count : 5000;
        var failed = 0;
        foreach (var harness in Select(args.ElementAtOrDefault(1)))
        {
            var result = FuzzSmoke.Run(harness, FuzzSmoke.LoadCorpus(FuzzSmoke.DefaultCorpusRoot, harness), mutations);
            Console.WriteLine($"{harness.Name}: {result.Executions} inputs, {(result.Finding is null ? "no finding" : "FINDING")}");
            if (result.Finding is not null)
            {
                failed++;
                var path = Path.GetFullPath($"smoke-finding-{harness.Name}.bin");
                await File.WriteAllBytesAsync(path, result.FindingInput!);
                Console.WriteLine($"  input saved to {path}\n  {result.Finding}");
            }
        }

        return failed == 0 ? 0 : 1;

    case "replay":
        var target = FuzzHarnesses.Find(args[1]);
        foreach (var file in args.Skip(2))
        {
            target.Run(await File.ReadAllBytesAsync(file));
            Console.WriteLine($"{file}: no finding");
        }

        return 0;

    default:
        var fuzzed = FuzzHarnesses.Find(args[0]);
        Fuzzer.LibFuzzer.Run(input => fuzzed.Run(input));
        return 0;
}

static IEnumerable<FuzzHarness> Select(string? name) =>
    name is null or "all" ? FuzzHarnesses.All : [FuzzHarnesses.Find(name)];
