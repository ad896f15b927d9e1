using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// The pinned pass of a mode: this harness started again under <c>taskset -c 0</c> (util-linux), so
/// everything it runs, child processes included, shares CPU 0. The child runs one pass, writes it as
/// JSON to the file named by <see cref="ResultsOption"/>, and the parent reads it back.
/// </summary>
public static class PinnedChild
{
    /// <summary>The option that tells a child where to write its pass (and that it is the child).</summary>
    public const string ResultsOption = "--child-results";

    /// <summary>The option that names the child's pass.</summary>
    public const string LabelOption = "--label";

    /// <summary>How passes travel between the processes.</summary>
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    /// <summary>
    /// When this process is the pinned child (<see cref="ResultsOption"/> names a file): runs its one
    /// pass with <paramref name="runPass"/>, writes it there and returns true; false in the parent.
    /// </summary>
    public static async Task<bool> TryRunAsChildAsync<T>(string[] args, Func<string, Task<T>> runPass)
    {
        if (BenchmarkCli.Value(args, ResultsOption) is not { } resultsPath)
        {
            return false;
        }

        var pass = await runPass(BenchmarkCli.Value(args, LabelOption) ?? "pinned").ConfigureAwait(false);
        await File.WriteAllTextAsync(resultsPath, JsonSerializer.Serialize(pass, Json)).ConfigureAwait(false);
        return true;
    }

    /// <summary>The <c>--affinity</c> option: "both" (the default), "pinned" or "unpinned"; null, after saying why on stderr, for anything else.</summary>
    public static string? ParseAffinity(string[] args)
    {
        var affinity = BenchmarkCli.Value(args, "--affinity") ?? "both";
        if (affinity is "both" or "pinned" or "unpinned")
        {
            return affinity;
        }

        Console.Error.WriteLine($"--affinity must be both, pinned or unpinned, not '{affinity}'.");
        return null;
    }

    /// <summary>
    /// Runs this harness with <paramref name="args"/> (less <c>--affinity</c>) and <paramref name="mode"/>
    /// under <c>taskset -c 0</c> and returns the pass it wrote, or why there is none.
    /// </summary>
    public static async Task<(T? Pass, string? Failure)> RunAsync<T>(string[] args, string mode, string label)
        where T : class
    {
        var taskset = NativeProcess.FindOnPath("taskset");
        if (taskset is null)
        {
            return (null, "`taskset` is not installed (it is part of util-linux)");
        }

        var resultsPath = Path.Combine(Path.GetTempPath(), $"rpcgen-bench-{label}-{Environment.ProcessId}.json");
        var start = StartInfo([.. StripOption(args, "--affinity").Where(a => a != mode), mode, LabelOption, label, ResultsOption, resultsPath], taskset, "-c", "0");
        using var child = Process.Start(start) ?? throw new InvalidOperationException("taskset did not start.");
        await child.WaitForExitAsync().ConfigureAwait(false);
        if (child.ExitCode != 0 || !File.Exists(resultsPath))
        {
            return (null, $"the {label} child exited with code {child.ExitCode}");
        }

        var pass = JsonSerializer.Deserialize<T>(await File.ReadAllTextAsync(resultsPath).ConfigureAwait(false), Json)
            ?? throw new InvalidDataException($"The {label} child wrote no results.");
        File.Delete(resultsPath);
        return (pass, null);
    }

    /// <summary>Starts this harness again with <paramref name="args"/>, as an argument of <paramref name="wrapper"/> (for example <c>taskset -c 0</c>) when one is given.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, params string[] wrapper)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
        var start = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : host) { UseShellExecute = false };
        foreach (var arg in wrapper.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        if (wrapper.Length > 0)
        {
            start.ArgumentList.Add(host);
        }

        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(PinnedChild).Assembly.Location);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    private static IEnumerable<string> StripOption(string[] args, string name)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == name)
            {
                i++;
                continue;
            }

            yield return args[i];
        }
    }
}
