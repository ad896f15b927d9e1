using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks the shape of an <c>[RpcService]</c> declaration: it is an interface (RPC0001), not generic
/// (RPC0002), and holds only instance methods (RPC0014).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ServiceDeclarationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.ServiceNotInterface,
        DiagnosticDescriptors.GenericService,
        DiagnosticDescriptors.NotAnInstanceMethod);

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

    /// <summary>What the member is, when it is not an instance method the proxy can implement as a call.</summary>
    private static string? NotAnInstanceMethodKind(ISymbol member)
    {
        if (member.IsImplicitlyDeclared)
        {
            return null;
        }

        return member switch
        {
            IPropertySymbol { IsIndexer: true } => "an indexer",
            IPropertySymbol { IsStatic: true } => "a static property",
            IPropertySymbol => "a property",
            IEventSymbol { IsStatic: true } => "a static event",
            IEventSymbol => "an event",
            IFieldSymbol => "a static field",
            IMethodSymbol { MethodKind: MethodKind.UserDefinedOperator or MethodKind.Conversion } => "an operator",
            IMethodSymbol { MethodKind: MethodKind.Ordinary, IsStatic: true } => "a static method",
            _ => null,
        };
    }

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
