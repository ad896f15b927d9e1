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

    /// <summary>Finds <paramref name="name"/> on PATH, or fails (CI) / skips (elsewhere) the test with how to install it.</summary>
    public static string Require(string name, string installHint)
    {
        if (Find(name) is { } found)
        {
            return found;
        }

        Missing($"'{name}' was not found on PATH", installHint);
        return string.Empty;
    }

    /// <summary>The full path of <paramref name="name"/> on PATH, or null.</summary>
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// A prerequisite is missing. Under <c>CI=true</c> the test fails: CI installs every prerequisite,
    /// so a missing one means the interop was never checked. On a developer machine with only the
    /// .NET SDK the test is skipped with the command that installs it, so <c>dotnet test</c> still works.
    /// </summary>
    public static void Missing(string what, string installHint)
    {
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.Fail($"{what}; CI must install it: {installHint}");
        }

        Assert.Skip($"{what}; to run this test: {installHint}");
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
