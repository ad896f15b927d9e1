using System.Diagnostics;
using System.Text;

namespace RpcGen.Capnp.Tests.Infrastructure;

/// <summary>Runs a command-line tool with a bounded lifetime and captures its output.</summary>
internal static class ExternalTool
{
    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr)
    {
        public string StdoutText => System.Text.Encoding.UTF8.GetString(Stdout);
    }

    /// <summary>Finds <paramref name="name"/> on PATH, or fails the test with how to install it.</summary>
    public static string Require(string name, string installHint)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        // Missing prerequisites fail the test, in CI and locally alike: a skipped interop test would
        // hide that the wire compatibility was never checked.
        var where = Environment.GetEnvironmentVariable("CI") == "true" ? "CI must install it" : "install it";
        Assert.Fail($"'{name}' was not found on PATH; {where}: {installHint}");
        return string.Empty;
    }

    public static async Task<Result> RunAsync(string executable, IEnumerable<string> arguments, byte[]? stdin = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
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
        using var output = new MemoryStream();
        var stdoutTask = process.StandardOutput.BaseStream.CopyToAsync(output);
        var stderrTask = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(executable)} {string.Join(' ', arguments)} did not finish in time.");
        }

        await stdoutTask;
        var stderr = await stderrTask;
        return new Result(process.ExitCode, output.ToArray(), stderr);
    }

    public static async Task<Result> RunCheckedAsync(string executable, IEnumerable<string> arguments, byte[]? stdin = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var list = arguments.ToList();
        var result = await RunAsync(executable, list, stdin, workingDirectory, timeout);
        if (result.ExitCode != 0)
        {
            Assert.Fail($"{Path.GetFileName(executable)} {string.Join(' ', list)} exited with {result.ExitCode}:\n{result.Stderr}");
        }

        return result;
    }
}
