using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace RpcGen.Analyzers.Tests;

/// <summary>
/// Compiles test sources against .NET and RpcGen.Abstractions, runs every RpcGen analyzer, and compares
/// what they report with the markers in the source.
/// </summary>
internal static class AnalyzerHarness
{
    /// <summary>The usings every diagnostic test source sees, as a separate file so spans are not shifted.</summary>
    public const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using RpcGen;
        """;

    /// <summary>
    /// Stands in for the capability transport: the analyzers, like the generator, report Cap'n Proto rules
    /// only in a compilation that has this type.
    /// </summary>
    public const string CapabilityTransport = """
        namespace RpcGen.Capnp
        {
            public interface ICapnpProxy { }
        }

        """;

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.CSharp12);

    public static readonly CSharpCompilationOptions CompilationOptions = new(
        OutputKind.DynamicallyLinkedLibrary,
        nullableContextOptions: NullableContextOptions.Enable);

    /// <summary>Every analyzer in RpcGen.Analyzers, found by reflection so a new one cannot be left out.</summary>
    public static ImmutableArray<DiagnosticAnalyzer> AllAnalyzers { get; } = typeof(DiagnosticIds).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
        .OrderBy(t => t.FullName, StringComparer.Ordinal)
        .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
        .ToImmutableArray();

    public static CSharpCompilation Compile(string source, IEnumerable<MetadataReference>? extraReferences = null) =>
        CSharpCompilation.Create(
            "TestContracts",
            [CSharpSyntaxTree.ParseText(source, ParseOptions, path: "Test.cs"), CSharpSyntaxTree.ParseText(GlobalUsings, ParseOptions, path: "GlobalUsings.cs")],
            ReferenceAssemblies.All.AddRange(extraReferences ?? []),
            CompilationOptions);

    /// <summary>Compiles another assembly for a test to reference, failing the test if it does not compile.</summary>
    public static MetadataReference CompileReference(string assemblyName, string source)
    {
        var compilation = CSharpCompilation.Create(
            assemblyName,
            [CSharpSyntaxTree.ParseText(source, ParseOptions)],
            ReferenceAssemblies.All,
            CompilationOptions);
        Assert.Empty(compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));
        return compilation.ToMetadataReference();
    }

    /// <summary>The analyzers' diagnostics for <paramref name="source"/>, in source order.</summary>
    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Compilation compilation, ImmutableArray<AdditionalText> additionalFiles = default)
    {
        var options = new AnalyzerOptions(additionalFiles.IsDefault ? [] : additionalFiles);
        var diagnostics = await compilation
            .WithAnalyzers(AllAnalyzers, new CompilationWithAnalyzersOptions(options, onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: false))
            .GetAnalyzerDiagnosticsAsync(TestContext.Current.CancellationToken);
        return diagnostics
            .OrderBy(d => d.Location.SourceSpan.Start)
            .ThenBy(d => d.Id, StringComparer.Ordinal)
            .ThenBy(d => d.GetMessage(CultureInfo.InvariantCulture), StringComparer.Ordinal)
            .ToImmutableArray();
    }

    /// <summary>
    /// Asserts that the analyzers report exactly the marked diagnostics (id and span) and that the source
    /// is otherwise valid C# (compiler errors other than <paramref name="allowedCompilerErrors"/> fail the
    /// test, so a typo cannot make a negative test pass). Returns the diagnostics for message checks.
    /// </summary>
    public static Task<ImmutableArray<Diagnostic>> VerifyAsync(string markup, params string[] allowedCompilerErrors) =>
        VerifyAsync(markup, [], allowedCompilerErrors);

    /// <inheritdoc cref="VerifyAsync(string, string[])"/>
    public static Task<ImmutableArray<Diagnostic>> VerifyAsync(string markup, IEnumerable<MetadataReference> extraReferences, params string[] allowedCompilerErrors) =>
        VerifyAsync(markup, extraReferences, [], allowedCompilerErrors);

    /// <summary>As <see cref="VerifyAsync(string, string[])"/>, with <paramref name="additionalFiles"/> (the project's <c>AdditionalFiles</c> items) given to the analyzers.</summary>
    public static async Task<ImmutableArray<Diagnostic>> VerifyAsync(string markup, IEnumerable<MetadataReference> extraReferences, ImmutableArray<AdditionalText> additionalFiles, params string[] allowedCompilerErrors)
    {
        var parsed = Markup.Parse(markup);
        var compilation = Compile(parsed.Source, extraReferences);

        var compilerErrors = compilation.GetDiagnostics(TestContext.Current.CancellationToken)
            .Where(d => d.Severity == DiagnosticSeverity.Error && !allowedCompilerErrors.Contains(d.Id))
            .Select(d => d.ToString())
            .ToList();
        Assert.Empty(compilerErrors);

        var diagnostics = await AnalyzeAsync(compilation, additionalFiles);
        var actual = diagnostics.Select(d => Describe(d.Id, d.Location.SourceSpan.Start, d.Location.SourceSpan.End, parsed.Source)).ToList();
        var expected = parsed.Expected.Select(e => Describe(e.Id, e.Span.Start, e.Span.End, parsed.Source)).ToList();
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));

        foreach (var diagnostic in diagnostics)
        {
            Assert.Equal("https://github.com/rpcgen/rpcgen#" + diagnostic.Id.ToLowerInvariant(), diagnostic.Descriptor.HelpLinkUri);
        }

        return diagnostics;
    }

    /// <summary>Asserts that a valid contract produces no compiler errors and no RpcGen diagnostics.</summary>
    public static Task VerifyCleanAsync(string source) => VerifyAsync(source);

    public static string Message(Diagnostic diagnostic) => diagnostic.GetMessage(CultureInfo.InvariantCulture);

    private static string Describe(string id, int start, int end, string source) => $"{id} at {start}..{end} '{source[start..end]}'";
}
