using System.Diagnostics;
using System.Globalization;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// Writes a results file whose top (everything before its first <c>## </c> heading) is the latest
/// run, keeping the sections below it: those are earlier runs and investigations written by hand,
/// with the before/after comparisons a fresh run must not erase.
/// </summary>
public static class ResultsFile
{
    private const string SectionHeading = "\n## ";

    /// <summary>
    /// Replaces the top of <paramref name="path"/> with <paramref name="top"/> and keeps every
    /// <c>## </c> section of the file as it was; creates the file (and its folder) when missing.
    /// </summary>
    public static async Task WriteTopKeepingSectionsAsync(string path, string top)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var sections = string.Empty;
        if (File.Exists(path))
        {
            var old = (await File.ReadAllTextAsync(path).ConfigureAwait(false)).ReplaceLineEndings("\n");
            var first = old.IndexOf(SectionHeading, StringComparison.Ordinal);
            if (first >= 0)
            {
                sections = old[(first + 1)..];
            }
        }

        var text = sections.Length == 0 ? top : top.TrimEnd() + "\n\n" + sections;
        await File.WriteAllTextAsync(path, text).ConfigureAwait(false);
    }

    /// <summary>
    /// "when and what" for a results file's top: the UTC time and the commit of the working tree the
    /// harness runs in (with <c>+changes</c> when files other than results have uncommitted changes), or "commit unknown" when
    /// git cannot tell.
    /// </summary>
    public static string RunStamp()
    {
        var when = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        var commit = Git("rev-parse --short HEAD");
        if (commit is null)
        {
            return $"{when}, commit unknown";
        }

        // Results files the harness itself rewrites do not make the measured code "changed".
        var dirty = Git("status --porcelain --untracked-files=no -- :(top) :(top,exclude)tests/RpcGen.Benchmarks/results");
        return $"{when}, commit `{commit}`{(string.IsNullOrEmpty(dirty) ? string.Empty : " +changes")}";
    }

    private static string? Git(string arguments)
    {
        try
        {
            var info = new ProcessStartInfo("git", arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = BenchmarkCli.FindProjectDirectory(),
            };
            using var git = Process.Start(info);
            if (git is null)
            {
                return null;
            }

            var output = git.StandardOutput.ReadToEnd().Trim();
            git.StandardError.ReadToEnd();
            return git.WaitForExit(TimeSpan.FromSeconds(10)) && git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
