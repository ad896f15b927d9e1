using System.Diagnostics;

namespace RpcGen.Benchmarks.Harness;

/// <summary>Runs a native program to completion with a time limit and captures its output.</summary>
public static class NativeProcess
{
    /// <summary>What a finished program printed.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>The full path of <paramref name="name"/> on PATH, or null.</summary>
    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs <paramref name="executable"/>; kills it and throws <see cref="TimeoutException"/> when <paramref name="timeout"/> passes.</summary>
    public static async Task<Result> RunAsync(string executable, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {executable}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(executable)} {string.Join(' ', info.ArgumentList)} did not finish in {timeout.TotalSeconds:0} s.");
        }

        return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Like <see cref="RunAsync"/>, but a non-zero exit code throws with what the program wrote to stderr.</summary>
    public static async Task<Result> RunCheckedAsync(string executable, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var list = arguments.ToList();
        var result = await RunAsync(executable, list, timeout, workingDirectory).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(executable)} {string.Join(' ', list)} exited with {result.ExitCode}: {result.Stderr.Trim()}");
        }

        return result;
    }
}
