using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks that every parameter, result and stream item of a service method can be serialized (RPC0008),
/// walking through nullable values, collection elements, dictionary keys and values, DTO members and
/// known subtypes, with the same classification the generator uses, that every DTO has a constructor
/// generated code can call (RPC0023), and that every DTO member with state can be set on the receiving
/// side (RPC0017). A stream anywhere but a parameter or the result is
/// unsupported like any other type. A problem inside a DTO declared in source is reported once, at the
/// member that holds it (however many methods reach it by the same path); one at the top of a signature,
/// or inside a type from metadata, at the parameter or return type.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SerializableTypeAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.UnserializableType,
        DiagnosticDescriptors.UnsettableMember,
        DiagnosticDescriptors.InvalidFormatter,
        DiagnosticDescriptors.InterfaceNotService,
        DiagnosticDescriptors.NoUsableConstructor);

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

            // One report per place and message, however many services, methods and parameters reach it.
            var reported = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            start.RegisterSymbolAction(symbolContext => AnalyzeService(symbolContext, symbols, reported), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeService(SymbolAnalysisContext context, RpcSymbols symbols, ConcurrentDictionary<string, bool> reported)
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

                var parameterLocation = Locations.ParameterTypeOf(parameter, service);
                switch (RpcContractRules.ClassifyStream(parameter.Type, out var itemType))
                {
                    case StreamShape.Items:
                        Report(context, reported, parameterLocation, itemType!, ItemPath(parameter.Type), service);
                        break;
                    case StreamShape.None:
                        Report(context, reported, parameterLocation, parameter.Type, Display(parameter.Type), service);
                        break;
                }
            }

            AnalyzeResult(context, reported, method, service);
        }
    }

    /// <summary>
    /// A value result is walked as itself, a streamed <c>IAsyncEnumerable&lt;T&gt;</c> through its items; a byte
    /// stream has nothing to walk, and a stream declared in a way no call can carry is RPC0016's.
    /// </summary>
    private static void AnalyzeResult(SymbolAnalysisContext context, ConcurrentDictionary<string, bool> reported, IMethodSymbol method, INamedTypeSymbol service)
    {
        var location = Locations.ReturnTypeOf(method, service);
        switch (RpcContractRules.ClassifyResultStream(method.ReturnType, out var itemType, out var problem))
        {
            case StreamShape.Items:
                Report(context, reported, location, itemType!, ItemPath(method.ReturnType), service);
                return;
            case StreamShape.Bytes:
                return;
        }

        if (problem is null && RpcContractRules.ClassifyReturn(method.ReturnType, out var resultType) != ReturnShape.Unsupported && resultType is not null)
        {
            Report(context, reported, location, resultType, Display(resultType), service);
        }
    }

    /// <summary>The items of a stream are written like the elements of a list: <c>IAsyncEnumerable&lt;Order&gt;[]</c>.</summary>
    private static string ItemPath(ITypeSymbol stream) => Display(stream) + "[]";

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

    private static void Report(SymbolAnalysisContext context, ConcurrentDictionary<string, bool> reported, Location rootLocation, ITypeSymbol root, string path, INamedTypeSymbol service)
    {
        foreach (var problem in FindProblems(root, path, service.ContainingAssembly))
        {
            var location = problem.Holder?.Locations.FirstOrDefault(l => l.IsInSource) ?? rootLocation;
            var diagnostic = Diagnostic.Create(problem.Descriptor, location, problem.Properties, problem.Arguments);
            // At a member: once, with the path of the first method that reaches it. At a parameter or return type: once per message.
            var key = diagnostic.Id + "|" + location.SourceTree?.FilePath + "|" + location.SourceSpan + "|" + (problem.Holder is null ? diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture) : string.Empty);
            if (reported.TryAdd(key, true))
            {
                context.ReportDiagnostic(diagnostic);
            }
        }
    }

    /// <summary>
    /// Every problem reachable from <paramref name="root"/>, each type looked at once, in walk order, with
    /// paths that start at <paramref name="path"/>. <paramref name="assembly"/> is where the generated code
    /// lives (the service's assembly).
    /// </summary>
    internal static IReadOnlyList<SerializationProblem> FindProblems(ITypeSymbol root, string path, IAssemblySymbol assembly)
    {
        var walk = new SerializationWalk(assembly);
        walk.Visit(root, path, atTop: true);
        return walk.Problems;
    }

    private static string Display(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);

    /// <summary>
    /// One walk from a parameter or result type, in the generator's order and with its rules: classify the
    /// type, check that generated code can name it, then descend into its parts.
    /// </summary>
    private sealed class SerializationWalk
    {
        private readonly IAssemblySymbol _assembly;
        private readonly HashSet<ITypeSymbol> _visited = new(SymbolEqualityComparer.Default);

        public SerializationWalk(IAssemblySymbol assembly)
        {
            _assembly = assembly;
        }

        public List<SerializationProblem> Problems { get; } = new();

        /// <summary><paramref name="atTop"/>: the type is the parameter or result itself, or an element of it.</summary>
        public void Visit(ITypeSymbol type, string path, ISymbol? holder = null, bool atTop = false)
        {
            // The compiler already reports a type that does not resolve.
            if (type.TypeKind == TypeKind.Error)
            {
                return;
            }

            // A type already on (or off) the walk says nothing new; this is also what ends a cycle such as
            // a tree node that holds its children.
            if (!_visited.Add(type))
            {
                return;
            }

            // A type with a user formatter ([RpcUseFormatter] on it or on the assembly) is that formatter's business.
            if (UserFormatterAccepts(type, null, path, holder))
            {
                return;
            }

            var shape = RpcContractRules.Classify(type, out var reason);

            // A path starts at the outermost DTO: a list or dictionary of orders reports 'Order.Total', like an order does.
            if (atTop && shape is TypeShape.Dto or TypeShape.Polymorphic)
            {
                path = Display(type);
            }

            if (shape != TypeShape.Unsupported && type is INamedTypeSymbol named && !GeneratedCodeAccess.CanName(named, _assembly))
            {
                Add(path, $"'{Display(type)}' is not accessible to generated code; make it public or internal", holder);
                return;
            }

            switch (shape)
            {
                case TypeShape.Unsupported when type is INamedTypeSymbol { TypeKind: TypeKind.Interface } callback && RpcContractRules.ClassifyStream(callback, out _) == StreamShape.None:
                    // Most likely a callback missing [RpcService]; the code fix adds it where the interface is in source.
                    Problems.Add(new SerializationProblem(DiagnosticDescriptors.InterfaceNotService, path, holder, path, Display(callback))
                    {
                        Properties = callback.Locations.Any(l => l.IsInSource) && DocumentationCommentId.CreateDeclarationId(callback) is { } id
                            ? ImmutableDictionary<string, string?>.Empty.Add(DiagnosticProperties.Interface, id)
                            : ImmutableDictionary<string, string?>.Empty,
                    });
                    break;
                case TypeShape.Unsupported:
                    Add(path, reason ?? "the type is not supported", holder);
                    break;
                case TypeShape.Service:
                    VisitService((INamedTypeSymbol)type, path, holder);
                    break;
                case TypeShape.Nullable or TypeShape.Lazy:
                    Visit(((INamedTypeSymbol)type).TypeArguments[0], path, holder, atTop);
                    break;
                case TypeShape.Array:
                    Visit(((IArrayTypeSymbol)type).ElementType, path + "[]", holder, atTop);
                    break;
                case TypeShape.List:
                    Visit(((INamedTypeSymbol)type).TypeArguments[0], path + "[]", holder, atTop);
                    break;
                case TypeShape.Dictionary:
                    var dictionary = (INamedTypeSymbol)type;
                    Visit(dictionary.TypeArguments[0], path + "[key]", holder, atTop);
                    Visit(dictionary.TypeArguments[1], path + "[value]", holder, atTop);
                    break;
                case TypeShape.Dto:
                    VisitDto((INamedTypeSymbol)type, path, holder);
                    break;
                case TypeShape.Polymorphic:
                    VisitPolymorphic((INamedTypeSymbol)type, path, holder);
                    break;
            }
        }

        /// <summary>
        /// A service travels by reference, so nothing of it is walked; but the peer needs its generated
        /// proxy and dispatcher. A service of this compilation gets them (or its own diagnostics say why
        /// not); one of another assembly has them only if the generator ran there.
        /// </summary>
        private void VisitService(INamedTypeSymbol service, string path, ISymbol? holder)
        {
            if (!SymbolEqualityComparer.Default.Equals(service.ContainingAssembly, _assembly) && !RpcContractRules.HasGeneratedRegistration(service))
            {
                Add(path, $"[RpcService] '{Display(service)}' comes from assembly '{service.ContainingAssembly?.Name}', which was built without the RpcGen generator, so it has no proxy or dispatcher to pass it by reference", holder);
            }
        }

        private void VisitPolymorphic(INamedTypeSymbol type, string path, ISymbol? holder)
        {
            foreach (var subtype in KnownTypes.Subtypes(type))
            {
                // A subtype that does not derive from the base is RPC0012's; the generator skips it too.
                if (!KnownTypes.DerivesFrom(subtype, type))
                {
                    continue;
                }

                var subtypePath = path + "(" + Display(subtype) + ")";
                if (RpcContractRules.Classify(subtype, out _) != TypeShape.Dto)
                {
                    Add(subtypePath, $"known type '{Display(subtype)}' must be a concrete class or struct without [RpcKnownType] subtypes of its own; list every subtype on the root", holder);
                    continue;
                }

                Visit(subtype, subtypePath, holder);
            }

            // A concrete base can be sent as itself; an abstract base or an interface cannot.
            if (type.TypeKind == TypeKind.Class && !type.IsAbstract)
            {
                VisitDto(type, path, holder);
            }
        }

        private void VisitDto(INamedTypeSymbol type, string path, ISymbol? holder)
        {
            var members = RpcContractRules.SerializedMembers(type);
            var constructor = DtoConstruction.ChooseConstructor(type, members);
            if (constructor is null)
            {
                // The code fix adds (or opens up) a parameterless constructor where the DTO is in source.
                Problems.Add(new SerializationProblem(DiagnosticDescriptors.NoUsableConstructor, path, holder, path, type.Name)
                {
                    Properties = type.Locations.Any(l => l.IsInSource) && DocumentationCommentId.CreateDeclarationId(type) is { } id
                        ? ImmutableDictionary<string, string?>.Empty.Add(DiagnosticProperties.Dto, id)
                        : ImmutableDictionary<string, string?>.Empty,
                });
                return;
            }

            foreach (var member in members)
            {
                var memberPath = path + "." + member.Name;
                if (!DtoConstruction.CanRebuild(member, constructor))
                {
                    Problems.Add(new SerializationProblem(
                        DiagnosticDescriptors.UnsettableMember,
                        memberPath,
                        member,
                        memberPath,
                        type.Name + "." + member.Name,
                        RpcContractRules.WhyNotSettable(member) ?? "cannot be set"));
                    continue;
                }

                if (!UserFormatterAccepts(DtoConstruction.MemberType(member), member, memberPath, member))
                {
                    Visit(DtoConstruction.MemberType(member), memberPath, member);
                }
            }
        }

        /// <summary>
        /// Whether a user formatter takes <paramref name="type"/> over (named on <paramref name="member"/>, the type
        /// or an assembly); one that is named but cannot be used is reported (RPC0018) and counts as taking over,
        /// so the type is not reported a second time.
        /// </summary>
        private bool UserFormatterAccepts(ITypeSymbol type, ISymbol? member, string path, ISymbol? holder)
        {
            if (RpcContractRules.UserFormatter(type, member, _assembly, out var problem) is not null)
            {
                return true;
            }

            if (problem is null)
            {
                return false;
            }

            Problems.Add(new SerializationProblem(DiagnosticDescriptors.InvalidFormatter, path, holder, path, problem));
            return true;
        }

        private void Add(string path, string reason, ISymbol? holder) =>
            Problems.Add(new SerializationProblem(DiagnosticDescriptors.UnserializableType, path, holder, path, reason));
    }

    /// <summary>One unsupported type or unsettable member: where it is and why.</summary>
    internal sealed class SerializationProblem
    {
        public SerializationProblem(DiagnosticDescriptor descriptor, string path, ISymbol? holder, params object[] arguments)
        {
            Descriptor = descriptor;
            Path = path;
            Holder = holder;
            Arguments = arguments;
        }

        /// <summary>RPC0008 or RPC0017.</summary>
        public DiagnosticDescriptor Descriptor { get; }

        /// <summary>The path from the parameter or result type, e.g. <c>Order.Customer.Callback</c>.</summary>
        public string Path { get; }

        /// <summary>The DTO member that holds the problem, or null for one at the top of a signature.</summary>
        public ISymbol? Holder { get; }

        /// <summary>The message arguments of <see cref="Descriptor"/>.</summary>
        public object[] Arguments { get; }

        /// <summary>What a code fix needs to know (RPC0021: the interface).</summary>
        public ImmutableDictionary<string, string?> Properties { get; set; } = ImmutableDictionary<string, string?>.Empty;
    }
}
