using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks each method a service owns: not generic (RPC0003), parameters by value (RPC0004), a task or
/// async stream return (RPC0005), a one-way return (RPC0006), the cancellation token last (RPC0007),
/// no cancellation token on a one-way method (RPC0020), and at most one cancellation token (RPC0024).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ServiceMethodAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.GenericMethod,
        DiagnosticDescriptors.ByRefParameter,
        DiagnosticDescriptors.UnsupportedReturnType,
        DiagnosticDescriptors.InvalidOneWayReturn,
        DiagnosticDescriptors.MisplacedCancellationToken,
        DiagnosticDescriptors.OneWayCancellation,
        DiagnosticDescriptors.SeveralCancellationTokens);

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

        if (method.IsGenericMethod)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.GenericMethod, Locations.Of(method, service), methodName));
        }

        var lastIndex = method.Parameters.Length - 1;
        // One token cancels the call; a second has nothing to cancel. Each extra one is RPC0024 (not RPC0007:
        // moving it last would not help).
        var tokens = method.Parameters.Where(p => symbols.IsCancellationToken(p.Type)).ToList();
        foreach (var extra in tokens.Skip(1))
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.SeveralCancellationTokens, Locations.ParameterOf(extra, service), methodName, extra.Name, tokens[0].Name));
        }

        foreach (var parameter in method.Parameters)
        {
            if (RefKindName(parameter.RefKind) is { } refKind)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.ByRefParameter, Locations.ParameterOf(parameter, service), parameter.Name, methodName, refKind));
            }

            if (parameter.Ordinal != lastIndex && symbols.IsCancellationToken(parameter.Type) && tokens.Count == 1)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.MisplacedCancellationToken, Locations.ParameterOf(parameter, service), parameter.Name, methodName));
            }
        }

        // A streamed result (IAsyncEnumerable<T>, Task<Stream>) and a stream declared in a way no call
        // can carry are RPC0016's, even on a one-way method: the stream is what to change.
        if (RpcContractRules.ClassifyResultStream(method.ReturnType, out _, out var streamProblem) != StreamShape.None || streamProblem is not null)
        {
            return;
        }

        var isOneWay = RpcSymbols.Find(method, symbols.OneWay) is not null;
        if (isOneWay && method.Parameters.FirstOrDefault(p => symbols.IsCancellationToken(p.Type)) is { } token)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.OneWayCancellation, Locations.ParameterOf(token, service), methodName, token.Name));
        }

        var shape = RpcContractRules.ClassifyReturn(method.ReturnType, out _);
        var returnType = method.ReturnType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
        var returnLocation = Locations.ReturnTypeOf(method, service);
        if (shape == ReturnShape.Unsupported || (shape == ReturnShape.Void && !isOneWay))
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnsupportedReturnType, returnLocation, methodName, returnType));
        }
        else if (isOneWay && shape is ReturnShape.Task or ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT or ReturnShape.Promise)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InvalidOneWayReturn, returnLocation, methodName, returnType));
        }
    }

    private static string? RefKindName(RefKind refKind) => refKind switch
    {
        RefKind.None => null,
        RefKind.Ref => "ref",
        RefKind.Out => "out",
        RefKind.In => "in",
        RefKind.RefReadOnlyParameter => "ref readonly",
        _ => refKind.ToString(),
    };
}
