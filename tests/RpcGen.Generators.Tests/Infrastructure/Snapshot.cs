using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.CodeAnalysis;

namespace RpcGen.Generators.Tests.Infrastructure;

/// <summary>
/// Compares generated sources with approved files in <c>Snapshots/&lt;test&gt;/&lt;hint name&gt;</c>
/// beside this project. A mismatch fails with a line diff; running the tests with
/// <c>RPCGEN_UPDATE_SNAPSHOTS=1</c> writes the current output as the new approved files.
/// </summary>
internal static class Snapshot
{
    public const string UpdateVariable = "RPCGEN_UPDATE_SNAPSHOTS";

    public static void Verify(GeneratorRunResult result, [CallerMemberName] string testName = "", [CallerFilePath] string callerPath = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots", testName);
        var generated = result.GeneratedSources
            .OrderBy(s => s.HintName, StringComparer.Ordinal)
            .ToDictionary(s => s.HintName, s => Normalize(s.SourceText.ToString()), StringComparer.Ordinal);

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            Directory.CreateDirectory(directory);
            foreach (var (hintName, text) in generated)
            {
                File.WriteAllText(Path.Combine(directory, hintName), text);
            }

            return;
        }

        var approved = Directory.Exists(directory)
            ? Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), f => Normalize(File.ReadAllText(f)), StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

        var failures = new StringBuilder();
        foreach (var missing in approved.Keys.Except(generated.Keys).Order(StringComparer.Ordinal))
        {
            failures.AppendLine($"{missing}: approved but no longer generated.");
        }

        foreach (var (hintName, text) in generated)
        {
            if (!approved.TryGetValue(hintName, out var expected))
            {
                failures.AppendLine($"{hintName}: generated but not approved.");
            }
            else if (expected != text)
            {
                failures.AppendLine($"{hintName}: differs from the approved file (- approved, + generated):");
                failures.Append(LineDiff.Format(expected, text));
            }
        }

        if (failures.Length > 0)
        {
            Assert.Fail($"Snapshot '{testName}' does not match {directory}.{Environment.NewLine}{failures}Run the tests with {UpdateVariable}=1 to approve the new output.");
        }
    }

    /// <summary>
    /// Line endings, a byte order mark, and the generator's version in <c>[GeneratedCode]</c>: it
    /// follows the package version (Directory.Build.props), which must not re-approve every file.
    /// </summary>
    private static string Normalize(string text) =>
        GeneratorVersion.Replace(text.Replace("\r\n", "\n").TrimStart('\uFEFF'), "GeneratedCode(\"RpcGen.Generators\", \"{version}\")");

    private static readonly System.Text.RegularExpressions.Regex GeneratorVersion =
        new(@"GeneratedCode\(""RpcGen\.Generators"", ""[0-9.]+""\)", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
}
