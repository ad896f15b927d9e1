using System.Globalization;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Analyzers;

/// <summary><c>--analyzers [--quick] [--interfaces N] [--runs N] [--out DIR]</c>: runs <see cref="AnalyzerSuite"/>, writes results/analyzers.md and prints it.</summary>
public static class AnalyzerCommand
{
    public const string FileName = "analyzers.md";

    public static async Task<int> RunAsync(string[] args)
    {
        var interfaces = 200;
        var runs = args.Contains("--quick") ? 2 : 7;
        if ((BenchmarkCli.Value(args, "--interfaces") is { } i && !TryPositive(i, out interfaces)) ||
            (BenchmarkCli.Value(args, "--runs") is { } r && !TryPositive(r, out runs)))
        {
            await Console.Error.WriteLineAsync("--interfaces and --runs take a positive number").ConfigureAwait(false);
            return 2;
        }

        var command = "dotnet run -c Release --project tests/RpcGen.Benchmarks -- " + string.Join(' ', args);
        var report = await AnalyzerSuite.RunAsync(interfaces, runs, command, Console.Out).ConfigureAwait(false);
        var directory = BenchmarkCli.Value(args, "--out") ?? Path.Combine(BenchmarkCli.FindProjectDirectory(), "results");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        var markdown = report.Render();
        await File.WriteAllTextAsync(path, markdown).ConfigureAwait(false);
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"Wrote {path}.");
        return 0;
    }

    private static bool TryPositive(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
}
