using System.Diagnostics;
using System.Text;

namespace RpcGen.Samples.Tests;

/// <summary>Runs a command to completion with a bounded time and captures its output.</summary>
internal static class DotnetProcess
{
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>
    /// The hang guard for a restore, build, pack or publish. A guard, not a performance bound: under
    /// CI on two cores loaded many times over by other work, a NativeAOT publish has taken over 8 minutes.
    /// </summary>
    public static TimeSpan BuildTimeout { get; } = TimeSpan.FromMinutes(20);

    /// <summary>The hang guard for running a built sample or tool to completion (same reasoning as <see cref="BuildTimeout"/>).</summary>
    public static TimeSpan RunTimeout { get; } = TimeSpan.FromMinutes(10);

    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var info = CreateStartInfo(fileName, arguments, workingDirectory);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;

        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        var lockObject = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (lockObject) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (lockObject) { output.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{fileName} {arguments}' did not finish within {timeout}. Output so far:\n{output}");
        }

        process.WaitForExit();
        lock (lockObject)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    /// <summary>How to start <paramref name="fileName"/> from the repository root (or <paramref name="workingDirectory"/>) as a user would.</summary>
    public static ProcessStartInfo CreateStartInfo(string fileName, string arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory ?? RepositoryRoot,
        };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";

        // A nested `dotnet` must not inherit the test host's MSBuild node settings.
        info.Environment.Remove("MSBuildExtensionsPath");
        info.Environment.Remove("MSBUILD_EXE_PATH");
        info.Environment.Remove("MSBuildSDKsPath");
        return info;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RpcGen.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("RpcGen.sln not found above " + AppContext.BaseDirectory);
    }
}
