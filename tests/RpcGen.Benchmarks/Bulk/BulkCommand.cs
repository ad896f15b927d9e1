using System.Globalization;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Bulk;

/// <summary><c>--bulk [--quick] [--bytes N] [--out DIR]</c>: runs <see cref="BulkSuite"/>, writes results/bulk.md and prints it.</summary>
public static class BulkCommand
{
    public const string FileName = "bulk.md";

    public static async Task<int> RunAsync(string[] args)
    {
        BulkOptions options;
        try
        {
            options = ParseOptions(args);
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }

        var command = "dotnet run -c Release --project tests/RpcGen.Benchmarks -- " + string.Join(' ', args);
        var report = await BulkSuite.RunAsync(options, command, Console.Out).ConfigureAwait(false);
        var directory = Value(args, "--out") ?? Path.Combine(BenchmarkCli.FindProjectDirectory(), "results");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        var markdown = BulkReportWriter.Render(report);
        await File.WriteAllTextAsync(path, markdown).ConfigureAwait(false);
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"Wrote {path} in {ReportWriter.Duration(report.TotalSeconds)}.");
        var failed = report.Transfers.Concat(report.CompressedTransfers).Any(t => !t.IsMeasured);
        return failed ? 1 : 0;
    }

    public static BulkOptions ParseOptions(string[] args)
    {
        var options = args.Contains("--quick") ? BulkOptions.Quick : BulkOptions.Full;
        if (Value(args, "--bytes") is { } bytes)
        {
            options = options with { TransferBytes = ParseSize(bytes) };
        }

        return options;
    }

    /// <summary>A byte count: digits, optionally followed by K, M or G (KiB, MiB, GiB).</summary>
    public static long ParseSize(string text)
    {
        var trimmed = text.Trim();
        var multiplier = 1L;
        if (trimmed.Length > 0 && char.ToUpperInvariant(trimmed[^1]) is 'K' or 'M' or 'G')
        {
            multiplier = char.ToUpperInvariant(trimmed[^1]) switch { 'K' => 1024L, 'M' => BulkOptions.MiB, _ => 1024 * BulkOptions.MiB };
            trimmed = trimmed[..^1];
        }

        if (!long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            throw new FormatException($"--bytes takes a positive byte count such as 268435456, 256M or 1G, not '{text}'.");
        }

        return checked(value * multiplier);
    }

    private static string? Value(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
