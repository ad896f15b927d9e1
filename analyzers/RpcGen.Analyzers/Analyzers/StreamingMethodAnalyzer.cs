using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks the streams of each method a service owns (RPC0016), by the generator's rules: at most one
/// <c>IAsyncEnumerable&lt;T&gt;</c> or <c>Stream</c> parameter, a streamed result returned as
/// <c>IAsyncEnumerable&lt;T&gt;</c>, <c>Task&lt;Stream&gt;</c> or <c>ValueTask&lt;Stream&gt;</c>, and no
/// stream at all on a <c>[OneWay]</c> method. What a stream's items are made of is RPC0008's.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StreamingMethodAnalyzer : DiagnosticAnalyzer
{
    private const string OneWayStream = "is [OneWay] and cannot stream; a one-way call gets no reply and has no flow control";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.InvalidStream);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (RpcSymbols.Create(start.Compilation) is not { } symbols)
            {
                return;
            }

            start.RegisterSymbolAction(symbolContext => AnalyzeService(symbolContext, symbols), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeService(SymbolAnalysisContext context, RpcSymbols symbols)
    {
        var service = (INamedTypeSymbol)context.Symbol;
        if (!symbols.IsService(service))
        {
            return;
        }

        foreach (var method in symbols.OwnedMethods(service))
        {
            AnalyzeMethod(context, symbols, service, method);
        }
    }

    private static void AnalyzeMethod(SymbolAnalysisContext context, RpcSymbols symbols, INamedTypeSymbol service, IMethodSymbol method)
    {
        var methodName = method.ContainingType.Name + "." + method.Name;
        var isOneWay = RpcSymbols.Find(method, symbols.OneWay) is not null;

        IParameterSymbol? firstStream = null;
        foreach (var parameter in method.Parameters)
        {
            // A by-reference parameter is RPC0004's; the generator does not look at it further either.
            if (parameter.RefKind != RefKind.None || RpcContractRules.ClassifyStream(parameter.Type, out _) == StreamShape.None)
            {
                continue;
            }

            var location = Locations.ParameterOf(parameter, service);
            if (isOneWay)
            {
                Report(context, location, methodName, OneWayStream);
            }

            if (firstStream is null)
            {
                firstStream = parameter;
            }
            else
            {
                Report(
                    context,
                    location,
                    methodName,
                    $"streams more than one parameter ('{firstStream.Name}' and '{parameter.Name}'); a call carries at most one request stream");
            }
        }

        var resultStream = RpcContractRules.ClassifyResultStream(method.ReturnType, out _, out var problem);
        if (problem is not null)
        {
            Report(context, Locations.ReturnTypeOf(method, service), methodName, problem);
        }
        else if (resultStream != StreamShape.None && isOneWay)
        {
            Report(context, Locations.ReturnTypeOf(method, service), methodName, OneWayStream);
        }
    }

    private static void Report(SymbolAnalysisContext context, Location location, string methodName, string reason) =>
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InvalidStream, location, methodName, reason));
}
