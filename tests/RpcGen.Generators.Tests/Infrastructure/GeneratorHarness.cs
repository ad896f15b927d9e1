using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RpcGen.Generators.Tests.Infrastructure;

/// <summary>Runs <see cref="RpcGenerator"/> over in-memory compilations.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        // Beside the test assembly (this project is AOT-analyzed, where Assembly.Location is off limits).
        .. new[] { "RpcGen.Abstractions.dll", "RpcGen.Runtime.dll", "MessagePack.dll" }
            .Select(file => MetadataReference.CreateFromFile(Path.Combine(AppContext.BaseDirectory, file))),
    ];

    /// <summary>With the capability transport referenced, which turns on the Cap'n Proto bindings.</summary>
    private static readonly ImmutableArray<MetadataReference> CapnpReferences =
    [
        .. References,
        MetadataReference.CreateFromFile(Path.Combine(AppContext.BaseDirectory, "RpcGen.Transport.Capability.dll")),
    ];

    public static CSharpCompilation CreateCompilation(params string[] sources) => CreateCompilation(capabilityTransport: false, sources);

    public static CSharpCompilation CreateCompilation(bool capabilityTransport, params string[] sources) =>
        CSharpCompilation.Create(
            "Contracts",
            sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"Contract{i}.cs")),
            capabilityTransport ? CapnpReferences : References,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                warningLevel: 9999,
                deterministic: true,
                // The SDK silences these assembly-unification notes too (MessagePack targets net6.0).
                specificDiagnosticOptions: new Dictionary<string, ReportDiagnostic>
                {
                    ["CS1701"] = ReportDiagnostic.Suppress,
                    ["CS1702"] = ReportDiagnostic.Suppress,
                }));

    public static GeneratorDriver CreateDriver(bool trackSteps = false, bool clientPackage = false) =>
        CSharpGeneratorDriver.Create(
            [new RpcGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            optionsProvider: clientPackage ? BuildProperties.Of(("RpcGenClientPackage", "true")) : null,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator as a client package project would (<c>RpcGenClientPackage=true</c>) and asserts a clean compilation.</summary>
    public static (GeneratorRunResult Result, Compilation Output) RunCleanClientPackage(params string[] sources)
    {
        var compilation = CreateCompilation(capabilityTransport: false, sources);
        var driver = CreateDriver(clientPackage: true).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _, TestContext.Current.CancellationToken);
        var result = driver.GetRunResult().Results.Single();
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        AssertCompilesCleanly(output);
        return (result, output);
    }

    /// <summary>A consumer assembly compiled against <paramref name="contracts"/> (emitted to an image) and the runtime.</summary>
    public static CSharpCompilation CreateConsumerCompilation(Compilation contracts, string source)
    {
        using var image = new MemoryStream();
        var emitted = contracts.Emit(image, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(emitted.Success, string.Join(Environment.NewLine, emitted.Diagnostics));
        return CSharpCompilation.Create(
            "Consumer",
            [CSharpSyntaxTree.ParseText(source, ParseOptions, path: "Consumer.cs")],
            [.. References, MetadataReference.CreateFromImage(image.ToArray())],
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                specificDiagnosticOptions: new Dictionary<string, ReportDiagnostic>
                {
                    ["CS1701"] = ReportDiagnostic.Suppress,
                    ["CS1702"] = ReportDiagnostic.Suppress,
                }));
    }

    /// <summary>Runs the generator; returns its result and the compilation with the generated files added.</summary>
    public static (GeneratorRunResult Result, Compilation Output) Run(params string[] sources) => Run(capabilityTransport: false, sources);

    /// <summary>Runs the generator, optionally with the capability transport referenced.</summary>
    public static (GeneratorRunResult Result, Compilation Output) Run(bool capabilityTransport, params string[] sources)
    {
        var compilation = CreateCompilation(capabilityTransport, sources);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _, TestContext.Current.CancellationToken);
        return (driver.GetRunResult().Results.Single(), output);
    }

    /// <summary>Runs the generator and asserts that it reported nothing and that everything compiles without a warning.</summary>
    public static GeneratorRunResult RunClean(params string[] sources) => RunClean(capabilityTransport: false, sources);

    /// <summary><see cref="RunClean(string[])"/>, optionally with the capability transport referenced.</summary>
    public static GeneratorRunResult RunClean(bool capabilityTransport, params string[] sources)
    {
        var (result, output) = Run(capabilityTransport, sources);
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        AssertCompilesCleanly(output);
        return result;
    }

    public static void AssertCompilesCleanly(Compilation compilation)
    {
        var problems = compilation.GetDiagnostics(TestContext.Current.CancellationToken)
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .Select(d => d.ToString() + Environment.NewLine + "    " + LineOf(d))
            .ToList();
        Assert.True(problems.Count == 0, "The generated code does not compile cleanly:" + Environment.NewLine + string.Join(Environment.NewLine, problems));
    }

    private static string LineOf(Diagnostic diagnostic)
    {
        var tree = diagnostic.Location.SourceTree;
        if (tree is null)
        {
            return string.Empty;
        }

        var line = diagnostic.Location.GetLineSpan().StartLinePosition.Line;
        return tree.GetText().Lines[line].ToString().Trim();
    }
}
