using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks that every parameter and result of a service method can be serialized (RPC0008), walking
/// through nullable values, collection elements, dictionary keys and values, DTO members and known
/// subtypes, with the same classification the generator uses.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SerializableTypeAnalyzer : DiagnosticAnalyzer
{
    private const string ServiceByReferenceReason = "passing services by reference is not supported by the message transport yet";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.UnserializableType);

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

        // A generic service already has RPC0002; its type parameters would only repeat it here.
        if (!symbols.IsService(service) || !ServiceDeclarationIsClosed(service))
        {
            return;
        }

        foreach (var method in symbols.OwnedMethods(service))
        {
            // RPC0003 covers a generic method's type parameters.
            if (method.IsGenericMethod)
            {
                continue;
            }

            foreach (var parameter in method.Parameters)
            {
                // RPC0007 covers cancellation tokens in any position.
                if (symbols.IsCancellationToken(parameter.Type))
                {
                    continue;
                }

                Report(context, Locations.ParameterTypeOf(parameter, service), parameter.Type);
            }

            if (RpcContractRules.ClassifyReturn(method.ReturnType, out var resultType) != ReturnShape.Unsupported && resultType is not null)
            {
                Report(context, Locations.ReturnTypeOf(method, service), resultType);
            }
        }
    }

    private static bool ServiceDeclarationIsClosed(INamedTypeSymbol service)
    {
        for (var current = service; current is not null; current = current.ContainingType)
        {
            if (current.TypeParameters.Length > 0)
            {
                return false;
            }
        }

        return true;
    }

    private static void Report(SymbolAnalysisContext context, Location location, ITypeSymbol root)
    {
        foreach (var problem in FindProblems(root))
        {
            var severity = problem.IsService ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error;
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.UnserializableType,
                location,
                severity,
                additionalLocations: null,
                properties: null,
                problem.Path,
                problem.Reason));
        }
    }

    /// <summary>Every unsupported type reachable from <paramref name="root"/>, each once, in walk order.</summary>
    internal static IReadOnlyList<SerializationProblem> FindProblems(ITypeSymbol root)
    {
        var problems = new List<SerializationProblem>();
        var visited = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        Walk(root, Display(root), visited, problems);
        return problems;
    }

    private static void Walk(ITypeSymbol type, string path, HashSet<ITypeSymbol> visited, List<SerializationProblem> problems)
    {
        // The compiler already reports a type that does not resolve.
        if (type.TypeKind == TypeKind.Error)
        {
            return;
        }

        // A type already on (or off) the walk says nothing new; this is also what ends a cycle such as
        // a tree node that holds its children.
        if (!visited.Add(type))
        {
            return;
        }

        switch (RpcContractRules.Classify(type, out var reason))
        {
            case TypeShape.Unsupported:
                problems.Add(new SerializationProblem(path, reason ?? "the type is not supported", isService: false));
                break;
            case TypeShape.Service:
                problems.Add(new SerializationProblem(path, ServiceByReferenceReason, isService: true));
                break;
            case TypeShape.Nullable:
                Walk(((INamedTypeSymbol)type).TypeArguments[0], path, visited, problems);
                break;
            case TypeShape.Array:
                Walk(((IArrayTypeSymbol)type).ElementType, path + "[]", visited, problems);
                break;
            case TypeShape.List:
                Walk(((INamedTypeSymbol)type).TypeArguments[0], path + "[]", visited, problems);
                break;
            case TypeShape.Dictionary:
                var dictionary = (INamedTypeSymbol)type;
                Walk(dictionary.TypeArguments[0], path + "[key]", visited, problems);
                Walk(dictionary.TypeArguments[1], path + "[value]", visited, problems);
                break;
            case TypeShape.Dto:
                WalkMembers((INamedTypeSymbol)type, path, visited, problems);
                break;
            case TypeShape.Polymorphic:
                var named = (INamedTypeSymbol)type;
                if (named.TypeKind != TypeKind.Interface && !named.IsAbstract)
                {
                    WalkMembers(named, path, visited, problems);
                }

                foreach (var subtype in KnownSubtypes(named))
                {
                    Walk(subtype, path + "(" + Display(subtype) + ")", visited, problems);
                }

                break;
        }
    }

    private static void WalkMembers(INamedTypeSymbol type, string path, HashSet<ITypeSymbol> visited, List<SerializationProblem> problems)
    {
        foreach (var member in RpcContractRules.SerializedMembers(type))
        {
            var memberType = member switch
            {
                IFieldSymbol field => field.Type,
                IPropertySymbol property => property.Type,
                _ => null,
            };

            if (memberType is not null)
            {
                Walk(memberType, path + "." + member.Name, visited, problems);
            }
        }
    }

    private static IEnumerable<INamedTypeSymbol> KnownSubtypes(INamedTypeSymbol type) =>
        type.GetAttributes()
            .Where(a => a.AttributeClass?.ToDisplayString(RpcContractRules.IdFormat) == RpcContractRules.RpcKnownTypeAttribute)
            .Select(a => a.ConstructorArguments.Length == 2 ? a.ConstructorArguments[0].Value as INamedTypeSymbol : null)
            .Where(t => t is not null)!;

    private static string Display(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);

    /// <summary>One unsupported type: where it is, why, and whether it is a service passed by reference (a warning).</summary>
    internal sealed class SerializationProblem
    {
        public SerializationProblem(string path, string reason, bool isService)
        {
            Path = path;
            Reason = reason;
            IsService = isService;
        }

        /// <summary>The path from the parameter or result type, e.g. <c>Order.Customer.Callback</c>.</summary>
        public string Path { get; }

        /// <summary>Why the type cannot be serialized.</summary>
        public string Reason { get; }

        /// <summary>Whether the type is an <c>[RpcService]</c> interface, which is passed by reference, not by value.</summary>
        public bool IsService { get; }
    }
}
