using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks the shape of an <c>[RpcService]</c> declaration: it is an interface (RPC0001), not generic
/// (RPC0002), holds only instance methods (RPC0014), and generated code can name it (RPC0015).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ServiceDeclarationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.ServiceNotInterface,
        DiagnosticDescriptors.GenericService,
        DiagnosticDescriptors.NotAnInstanceMethod,
        DiagnosticDescriptors.InaccessibleService);

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
        var type = (INamedTypeSymbol)context.Symbol;

        // The attribute's AttributeUsage makes the compiler report CS0592 on a class, but the attribute is
        // still bound to the symbol, and the generator would see it: say what RpcGen expects too.
        if (RpcSymbols.Find(type, symbols.RpcService) is null)
        {
            return;
        }

        if (type.TypeKind != TypeKind.Interface)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.ServiceNotInterface, Locations.Of(type, type), type.Name, KindName(type)));
            return;
        }

        var typeParameters = TypeParametersInScope(type);
        if (!typeParameters.IsEmpty)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.GenericService, Locations.Of(type, type), type.Name, string.Join(", ", typeParameters)));
        }

        if (!GeneratedCodeAccess.CanName(type, type.ContainingAssembly))
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InaccessibleService, Locations.Of(type, type), type.Name));
        }

        foreach (var member in symbols.OwnedMembers(type))
        {
            if (NotAnInstanceMethodKind(member) is { } kind)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.NotAnInstanceMethod, Locations.Of(member, type), member.ContainingType.Name + "." + member.Name, kind));
            }
        }
    }

    /// <summary>The type parameters of the interface and of every type it is nested in, outermost last.</summary>
    private static ImmutableArray<string> TypeParametersInScope(INamedTypeSymbol type)
    {
        var names = ImmutableArray.CreateBuilder<string>();
        for (var current = type; current is not null; current = current.ContainingType)
        {
            var suffix = ReferenceEquals(current, type) ? string.Empty : " of " + current.Name;
            foreach (var parameter in current.TypeParameters)
            {
                names.Add(parameter.Name + suffix);
            }
        }

        return names.ToImmutable();
    }

    /// <summary>
    /// What the member is, when the proxy would have to implement it but cannot turn it into a call:
    /// abstract properties, indexers and events, and static abstract or virtual methods. Default-implemented
    /// members and static helpers are inherited by the proxy and are not part of the contract.
    /// </summary>
    private static string? NotAnInstanceMethodKind(ISymbol member)
    {
        if (member.IsImplicitlyDeclared)
        {
            return null;
        }

        var prefix = member.IsStatic ? "a static abstract " : "a ";
        return member switch
        {
            IPropertySymbol { IsAbstract: true, IsIndexer: true } => "an indexer",
            IPropertySymbol { IsAbstract: true } => prefix + "property",
            IEventSymbol { IsAbstract: true } => member.IsStatic ? prefix + "event" : "an event",
            IMethodSymbol { IsStatic: true, IsAbstract: true } method when MethodKindName(method) is { } kind => prefix + kind,
            IMethodSymbol { IsStatic: true, IsVirtual: true } method when MethodKindName(method) is { } kind => "a static virtual " + kind,
            _ => null,
        };
    }

    /// <summary>"method" or "operator"; null for accessors, which are reported through their property or event.</summary>
    private static string? MethodKindName(IMethodSymbol method) => method.MethodKind switch
    {
        MethodKind.Ordinary => "method",
        MethodKind.UserDefinedOperator or MethodKind.Conversion => "operator",
        _ => null,
    };

    private static string KindName(INamedTypeSymbol type) => type switch
    {
        { IsRecord: true, TypeKind: TypeKind.Struct } => "a record struct",
        { IsRecord: true } => "a record",
        { TypeKind: TypeKind.Class } => "a class",
        { TypeKind: TypeKind.Struct } => "a struct",
        { TypeKind: TypeKind.Enum } => "an enum",
        { TypeKind: TypeKind.Delegate } => "a delegate",
        _ => "a " + type.TypeKind.ToString().ToLowerInvariant(),
    };
}
