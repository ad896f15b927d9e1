using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace RpcGen.Analyzers;

/// <summary>
/// Reports a local that holds a capability, a stream or a connection and is then dropped (RPC0025): never
/// disposed, returned, stored or handed to other code. A capability received from a call pins an export
/// on the peer until it is released; a downloaded <c>Stream</c> holds the call open; a client, connection
/// or server holds a socket.
/// </summary>
/// <remarks>
/// False positives cost more than misses here, so any use the analyzer cannot follow counts as taking
/// ownership: passing the local as an argument, assigning it anywhere, returning or yielding it, putting
/// it in a tuple, array or collection, or capturing it in a lambda. Only a local whose every use is a call,
/// a property or an event on it (or a comparison) is reported. A proxy from <c>GetService</c> is not a
/// reference (disposing it does nothing), so it is never reported; nor is a capability whose contract does
/// not inherit <c>IAsyncDisposable</c>, nor a disposable an instance method returned (its owner may keep it).
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UndisposedResourceAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.UndisposedResource);

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

            var disposables = new DisposableTypes(start.Compilation);
            start.RegisterOperationAction(
                operation => AnalyzeDeclarator(operation, symbols, disposables),
                OperationKind.VariableDeclarator);
        });
    }

    private static void AnalyzeDeclarator(OperationAnalysisContext context, RpcSymbols symbols, DisposableTypes disposables)
    {
        var declarator = (IVariableDeclaratorOperation)context.Operation;
        var initializer = declarator.Initializer?.Value ?? (declarator.Parent as IVariableDeclarationOperation)?.Initializer?.Value;
        if (initializer is null || IsUsingDeclaration(declarator) || What(initializer, declarator.Symbol.Type, symbols, disposables) is not { } what)
        {
            return;
        }

        // Only now, for the rare local that holds a resource, is the enclosing body walked.
        var root = declarator;
        IOperation body = declarator;
        while (body.Parent is { } parent)
        {
            body = parent;
        }

        var references = body.Descendants()
            .OfType<ILocalReferenceOperation>()
            .Where(r => SymbolEqualityComparer.Default.Equals(r.Local, declarator.Symbol));
        if (references.Any(r => TakesOwnership(r, root, disposables)))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.UndisposedResource,
            declarator.Syntax.GetLocation(),
            declarator.Symbol.Name,
            what));
    }

    /// <summary>What a local initialized by <paramref name="value"/> holds that needs disposing, or null.</summary>
    private static string? What(IOperation value, ITypeSymbol localType, RpcSymbols symbols, DisposableTypes disposables)
    {
        // The task's result, however it was waited for: await, .Result, .GetAwaiter().GetResult().
        var source = Conversions.Unwrap(value) switch
        {
            IAwaitOperation awaited => Conversions.Unwrap(awaited.Operation),
            IPropertyReferenceOperation { Property.Name: "Result", Instance: { } task } => Conversions.Unwrap(task),
            IInvocationOperation { TargetMethod.Name: "GetResult", Instance: IInvocationOperation { TargetMethod.Name: "GetAwaiter", Instance: { } task } } => Conversions.Unwrap(task),
            var other => other,
        };

        switch (source)
        {
            case IInvocationOperation call when symbols.IsService(call.TargetMethod.ContainingType):
                var method = call.TargetMethod.ContainingType.Name + "." + call.TargetMethod.Name;
                // Only a contract that inherits IAsyncDisposable (or IDisposable) asks its users to release
                // references; others are released by RpcReference.ReleaseAsync or the end of the connection.
                if (symbols.IsService(localType) && disposables.IsDisposable(localType))
                {
                    return $"a capability returned by '{method}'";
                }

                return disposables.IsStream(localType) ? $"a stream returned by '{method}'" : null;
            // Made by RpcGen itself (new RpcServer(), RpcClient.ConnectAsync): the caller owns it. An instance
            // method (a test fixture's ConnectAsync, a layer's WrapAsync) may keep ownership, so it is not followed.
            case IObjectCreationOperation when disposables.IsRpcGenDisposable(localType):
            case IInvocationOperation { TargetMethod.IsStatic: true } factory when DisposableTypes.IsRpcGen(factory.TargetMethod.ContainingType) && disposables.IsRpcGenDisposable(localType):
                return $"an RpcGen '{localType.Name}'";
            default:
                return null;
        }
    }

    /// <summary>
    /// Whether this use of the local may dispose it or hand it on. Everything but a member access on it (other
    /// than <c>Dispose</c>/<c>DisposeAsync</c>, which dispose it) or a comparison does.
    /// </summary>
    private static bool TakesOwnership(ILocalReferenceOperation reference, IOperation declarator, DisposableTypes disposables)
    {
        // A use inside a lambda or local function may outlive the body: the analyzer cannot follow it.
        for (var ancestor = reference.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            if (ancestor is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                if (!IsAncestor(ancestor, declarator))
                {
                    return true;
                }

                break;
            }
        }

        IOperation use = reference;
        while (use.Parent is IConversionOperation or IParenthesizedOperation)
        {
            use = use.Parent;
        }

        return use.Parent switch
        {
            // flow.AsStream(), connection.CreateLink(): a disposable made from it may own it from then on.
            IInvocationOperation call when call.Instance == use => call.TargetMethod.Name is "Dispose" or "DisposeAsync" || disposables.MayWrap(call.TargetMethod.ReturnType),
            IPropertyReferenceOperation property when property.Instance == use => false,
            IEventReferenceOperation @event when @event.Instance == use => false,
            IConditionalAccessOperation access when access.Operation == use => ConditionalAccessDisposes(access),
            IBinaryOperation or IIsPatternOperation => false,
            _ => true,
        };
    }

    // x?.Dispose(), and x?.A?.B() which the analyzer does not follow.
    private static bool ConditionalAccessDisposes(IConditionalAccessOperation access) =>
        access.WhenNotNull is IInvocationOperation { TargetMethod.Name: "Dispose" or "DisposeAsync" } or IConditionalAccessOperation;

    private static bool IsAncestor(IOperation candidate, IOperation operation)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            if (current == candidate)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary><c>using var x = …;</c> or <c>using (var x = …)</c>.</summary>
    private static bool IsUsingDeclaration(IVariableDeclaratorOperation declarator) =>
        declarator.Parent?.Parent is IVariableDeclarationGroupOperation { Parent: IUsingDeclarationOperation or IUsingOperation };

    /// <summary>The disposable types one compilation knows, resolved once.</summary>
    private sealed class DisposableTypes(Compilation compilation)
    {
        private readonly INamedTypeSymbol? _stream = compilation.GetTypeByMetadataName("System.IO.Stream");
        private readonly INamedTypeSymbol? _disposable = compilation.GetTypeByMetadataName("System.IDisposable");
        private readonly INamedTypeSymbol? _asyncDisposable = compilation.GetTypeByMetadataName("System.IAsyncDisposable");

        /// <summary><c>Stream</c> or a type derived from it.</summary>
        public bool IsStream(ITypeSymbol type)
        {
            for (var current = type as INamedTypeSymbol; current is not null; current = current.BaseType)
            {
                if (SymbolEqualityComparer.Default.Equals(current, _stream))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>A type that implements <c>IDisposable</c> or <c>IAsyncDisposable</c> (or is one of them).</summary>
        public bool IsDisposable(ITypeSymbol type) =>
            SymbolEqualityComparer.Default.Equals(type, _disposable) || SymbolEqualityComparer.Default.Equals(type, _asyncDisposable) ||
            type.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, _disposable) || SymbolEqualityComparer.Default.Equals(i, _asyncDisposable));

        /// <summary>Whether a call's result may own what it was made from: a disposable that is not a task (every <c>Task</c> is <c>IDisposable</c>).</summary>
        public bool MayWrap(ITypeSymbol type) =>
            IsDisposable(type) && type.ContainingNamespace?.ToDisplayString() != "System.Threading.Tasks";

        /// <summary>
        /// A class of RpcGen's own (a client, a connection, a server, a link) that implements <c>IDisposable</c>
        /// or <c>IAsyncDisposable</c>: each holds a socket or a listener until it is disposed.
        /// </summary>
        public bool IsRpcGenDisposable(ITypeSymbol type) => type.TypeKind == TypeKind.Class && IsRpcGen(type) && IsDisposable(type);

        /// <summary>Whether <paramref name="type"/> is declared in RpcGen's own namespaces.</summary>
        public static bool IsRpcGen(ITypeSymbol type) =>
            type.ContainingNamespace?.ToDisplayString() is { } ns && (ns == "RpcGen" || ns.StartsWith("RpcGen.", System.StringComparison.Ordinal));
    }
}
