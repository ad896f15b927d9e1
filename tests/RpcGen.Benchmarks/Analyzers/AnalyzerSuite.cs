using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace RpcGen.Benchmarks.Analyzers;

/// <summary>
/// Runs every RpcGen analyzer over a generated contract compilation (<see cref="AnalyzerContracts"/>) the way a
/// build does (concurrent analysis on), and times it against the compiler's own binding of the same code.
/// </summary>
public static class AnalyzerSuite
{
    /// <summary>Every analyzer in RpcGen.Analyzers, found by reflection so a new one is timed too.</summary>
    public static ImmutableArray<DiagnosticAnalyzer> Analyzers { get; } = typeof(RpcGen.Analyzers.BlockingCallAnalyzer).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
        .ToImmutableArray();

    public static async Task<AnalyzerReport> RunAsync(int interfaces, int runs, string command, TextWriter log)
    {
        var total = Stopwatch.StartNew();
        var loadBefore = Harness.BenchmarkCli.LoadAverage();
        var source = AnalyzerContracts.Source(interfaces);

        // Warm-up: JIT the compiler and the analyzers, and check the contract is clean C# and clean RpcGen.
        var warm = Compile(source);
        var compilerErrors = warm.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (compilerErrors.Count > 0)
        {
            throw new InvalidOperationException("The generated contracts do not compile: " + compilerErrors[0]);
        }

        var (_, _, diagnostics) = await AnalyzeAsync(warm).ConfigureAwait(false);
        var bindSeconds = new List<double>();
        var analyzeSeconds = new List<double>();
        var perAnalyzer = Analyzers.ToDictionary(a => a.GetType().Name, _ => new List<double>(), StringComparer.Ordinal);
        for (var run = 0; run < runs; run++)
        {
            // A fresh compilation each run: nothing bound or analyzed is reused.
            var bind = Stopwatch.StartNew();
            var compilation = Compile(source);
            _ = compilation.GetDiagnostics();
            bindSeconds.Add(bind.Elapsed.TotalSeconds);

            var (seconds, times, _) = await AnalyzeAsync(Compile(source)).ConfigureAwait(false);
            analyzeSeconds.Add(seconds);
            foreach (var (name, time) in times)
            {
                perAnalyzer[name].Add(time);
            }

            log.WriteLine($"run {run + 1}/{runs}: compiler {bindSeconds[^1] * 1000:0} ms, analyzers {seconds * 1000:0} ms");
        }

        return new AnalyzerReport(
            command,
            interfaces,
            runs,
            source.Split('\n').Length,
            bindSeconds,
            analyzeSeconds,
            perAnalyzer.ToDictionary(p => p.Key, p => (IReadOnlyList<double>)p.Value, StringComparer.Ordinal),
            diagnostics.GroupBy(d => d.Id).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            loadBefore,
            Harness.BenchmarkCli.LoadAverage(),
            total.Elapsed.TotalSeconds);
    }

    private static CSharpCompilation Compile(string source) =>
        CSharpCompilation.Create(
            "Bench.Contracts",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.CSharp12))],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>Wall time of one analysis of every analyzer, each analyzer's own execution time, and what they reported.</summary>
    private static async Task<(double Seconds, Dictionary<string, double> PerAnalyzer, ImmutableArray<Diagnostic> Diagnostics)> AnalyzeAsync(Compilation compilation)
    {
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: true);
        var withAnalyzers = compilation.WithAnalyzers(Analyzers, options);
        var clock = Stopwatch.StartNew();
        var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync().ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var perAnalyzer = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var analyzer in Analyzers)
        {
            var telemetry = await withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None).ConfigureAwait(false);
            perAnalyzer[analyzer.GetType().Name] = telemetry.ExecutionTime.TotalSeconds;
        }

        return (seconds, perAnalyzer, diagnostics);
    }

    /// <summary>The running runtime's assemblies and RpcGen.Abstractions: what a contract project compiles against.</summary>
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(path => Path.GetFileName(path) is var name && (name.StartsWith("System.", StringComparison.Ordinal) || name is "netstandard.dll" or "mscorlib.dll"))
            .Append(typeof(RpcServiceAttribute).Assembly.Location)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray());
}
