using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks that the methods a service's dispatcher answers (its own and every base interface's) have
/// distinct ids (RPC0009): pinned ordinals that repeat, and derived ids that collide (overloads that
/// differ only by a cancellation token hash the same text).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MethodIdAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.DuplicateMethodId);

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

            start.RegisterSymbolAction(symbolContext => Analyze(symbolContext, symbols), SymbolKind.NamedType);
        });
    }

    private static void Analyze(SymbolAnalysisContext context, RpcSymbols symbols)
    {
        var service = (INamedTypeSymbol)context.Symbol;
        if (!symbols.IsService(service))
        {
            return;
        }

        var methods = RpcSymbols.AllRemoteMethods(service)
            .Select(method =>
            {
                var attribute = RpcSymbols.Find(method, symbols.RpcMethod);
                int? pinned = RpcSymbols.TryGetArgument(attribute, 1, 0, out int ordinal) ? ordinal : null;
                return new { Method = method, Attribute = attribute, Pinned = pinned, Id = RpcContractRules.MethodId(method, pinned) };
            })
            .ToList();

        foreach (var group in methods.GroupBy(m => m.Id).Where(g => g.Count() > 1))
        {
            var members = group.ToList();
            for (var i = 0; i < members.Count; i++)
            {
                var current = members[i];
                var other = members[i == 0 ? 1 : 0];

                // Squiggle what to change: the pinned ordinal, else the method name; a method inherited
                // from a base interface collides only in this service, so that one is reported on the service.
                var declaredHere = SymbolEqualityComparer.Default.Equals(current.Method.ContainingType, service);
                var location = !declaredHere
                    ? Locations.Of(service, service)
                    : current.Attribute is not null
                        ? Locations.AttributeArgumentOf(current.Attribute, "ordinal", 0, current.Method)
                        : Locations.Of(current.Method, service);
                var id = current.Pinned is { } ordinal
                    ? "ordinal " + ordinal.ToString(CultureInfo.InvariantCulture)
                    : "derived id 0x" + current.Id.ToString("X8", CultureInfo.InvariantCulture);

                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.DuplicateMethodId,
                    location,
                    Name(current.Method),
                    id,
                    Name(other.Method),
                    service.Name,
                    current.Pinned is null && other.Pinned is null && DifferOnlyByCancellationToken(current.Method, other.Method, symbols)
                        ? "the two differ only by a CancellationToken, which is not part of a method's id; keep one overload, with 'CancellationToken cancellationToken = default' last"
                        : "method ids must be unique within a service"));
            }
        }
    }

    /// <summary>Whether two overloads have the same name and the same parameters once cancellation tokens are left out.</summary>
    private static bool DifferOnlyByCancellationToken(IMethodSymbol a, IMethodSymbol b, RpcSymbols symbols)
    {
        if (a.Name != b.Name)
        {
            return false;
        }

        var left = a.Parameters.Where(p => !symbols.IsCancellationToken(p.Type)).Select(p => p.Type).ToList();
        var right = b.Parameters.Where(p => !symbols.IsCancellationToken(p.Type)).Select(p => p.Type).ToList();
        return left.Count == right.Count && left.Zip(right, (l, r) => SymbolEqualityComparer.Default.Equals(l, r)).All(same => same);
    }

    /// <summary><c>IService.Method(int, string)</c>: overloads need their parameters to be told apart.</summary>
    private static string Name(IMethodSymbol method) =>
        method.ContainingType.Name + "." + method.Name + "(" +
        string.Join(", ", method.Parameters.Select(p => p.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat))) + ")";
}
