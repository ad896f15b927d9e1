using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators;

public sealed partial class RpcGenerator
{
    /// <summary>
    /// Turns an <c>[RpcService]</c> interface symbol into a <see cref="ServiceSpec"/>: methods with
    /// their ids and envelopes, and a <see cref="TypeSpec"/> for every type reachable from the
    /// signatures. Applies <see cref="RpcContractRules"/>; anything they reject makes the whole
    /// service a rejection (the analyzers explain each problem at its site).
    /// </summary>
    internal sealed class Parser
    {
        /// <summary>Fully qualified, without nullable reference annotations: the identity of a type spec.</summary>
        private static readonly SymbolDisplayFormat KeyFormat = RpcContractRules.FullyQualified
            .RemoveMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        private static readonly HashSet<string> ServiceMemberNamesTaken = new(StringComparer.Ordinal) { "Service", "Formatters" };

        private readonly INamedTypeSymbol _service;
        private readonly CancellationToken _cancellationToken;
        private readonly List<string> _errors = new();
        private readonly Dictionary<string, int> _typeIndex = new(StringComparer.Ordinal);
        private readonly List<TypeSpec?> _types = new();
        private readonly HashSet<string> _identifiers = new(StringComparer.Ordinal);

        /// <summary>False once the interface or a type it reaches is not public: then its generated code cannot be public either.</summary>
        private bool _allPublic = true;

        /// <summary>Why each type generated code cannot name was rejected, so every later use of it is reported in its own context.</summary>
        private readonly Dictionary<string, string> _rejectedTypes = new(StringComparer.Ordinal);

        /// <summary>
        /// The services of this compilation met while parsing one service (the one parsed first included):
        /// why each has no generated code, or null when it has or is still being judged. Shared by the
        /// parsers that judge the services passed by reference, so each is judged once and a cycle of
        /// services that pass each other ends.
        /// </summary>
        private readonly Dictionary<INamedTypeSymbol, string?> _servicesJudged;

        private Parser(INamedTypeSymbol service, CancellationToken cancellationToken, Dictionary<INamedTypeSymbol, string?> servicesJudged)
        {
            _service = service;
            _cancellationToken = cancellationToken;
            _servicesJudged = servicesJudged;
        }

        /// <summary>Parses one service. <paramref name="declaration"/> only locates a rejection.</summary>
        public static ServiceSpec Parse(INamedTypeSymbol service, SyntaxNode? declaration, CancellationToken cancellationToken)
        {
            var servicesJudged = new Dictionary<INamedTypeSymbol, string?>(SymbolEqualityComparer.Default) { [service] = null };
            var parser = new Parser(service, cancellationToken, servicesJudged);
            var spec = parser.ParseService();
            if (parser._errors.Count == 0)
            {
                return spec;
            }

            var location = declaration is InterfaceDeclarationSyntax syntax ? syntax.Identifier.GetLocation() : service.Locations.FirstOrDefault();
            return spec with
            {
                Methods = EquatableArray<MethodSpec>.Empty,
                Types = EquatableArray<TypeSpec>.Empty,
                Rejection = string.Join("; ", parser._errors.Distinct()),
                Location = LocationInfo.From(location),
            };
        }

        private ServiceSpec ParseService()
        {
            var serviceName = _service.ToDisplayString(RpcContractRules.IdFormat);
            if (_service.IsGenericType)
            {
                _errors.Add("generic service interfaces are not supported");
            }

            if (!IsAccessibleFromNamespace(_service))
            {
                _errors.Add("the interface must be public or internal, and so must the types that contain it");
            }

            _allPublic &= IsPublic(_service);

            var methods = ParseMethods();
            var types = _types.Where(t => t is not null).Select(t => t!).ToEquatableArray();
            return new ServiceSpec(
                Namespace: _service.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : string.Empty,
                InterfaceType: _service.ToDisplayString(KeyFormat),
                ServiceName: serviceName,
                BaseName: RpcContractRules.GeneratedBaseName(_service),
                Id: RpcContractRules.ServiceId(_service, RpcContractRules.PinnedServiceId(_service)),
                Methods: methods,
                Types: types,
                Rejection: null,
                Location: null,
                CapnpId: CapnpInterfaceId(_service),
                AllPublic: _allPublic,
                ContainingType: ContainingTypeKey(_service));
        }

        private static ulong CapnpInterfaceId(INamedTypeSymbol contract) => RpcContractRules.CapnpInterfaceId(contract);

        /// <summary>The key of the type <paramref name="type"/> is nested in, or null; the Cap'n Proto export nests its declaration there too.</summary>
        private static string? ContainingTypeKey(ITypeSymbol type) => type.ContainingType?.ToDisplayString(KeyFormat);

        /// <summary>Numbers the methods per Cap'n Proto interface with <see cref="RpcContractRules.CapnpOrdinals"/>.</summary>
        private List<MethodSpec> AssignCapnpOrdinals(List<(MethodSpec Method, INamedTypeSymbol Contract, int? Pinned)> methods)
        {
            var serviceId = CapnpInterfaceId(_service);
            var interfaceIds = methods.Select(m => RpcContractRules.IsRpcService(m.Contract) ? CapnpInterfaceId(m.Contract) : serviceId).ToList();
            var ordinals = new int[methods.Count];
            foreach (var group in Enumerable.Range(0, methods.Count).GroupBy(i => interfaceIds[i]))
            {
                var indexes = group.ToList();
                var assigned = RpcContractRules.CapnpOrdinals(indexes.Select(i => methods[i].Pinned).ToList());
                for (var k = 0; k < indexes.Count; k++)
                {
                    ordinals[indexes[k]] = assigned[k];
                }
            }

            return methods.Select((m, i) => m.Method with { CapnpInterfaceId = interfaceIds[i], CapnpOrdinal = ordinals[i] }).ToList();
        }

        // ------------------------------------------------------------------ methods

        private EquatableArray<MethodSpec> ParseMethods()
        {
            var methods = new List<(MethodSpec Method, INamedTypeSymbol Contract, int? Pinned)>();
            var taken = new HashSet<string>(ServiceMemberNamesTaken, StringComparer.Ordinal) { RpcContractRules.GeneratedBaseName(_service) + "Rpc" };
            var ids = new Dictionary<uint, string>();

            // The service's own members first, then those it inherits, each in declaration order.
            // IAsyncDisposable is the proxy's own (it releases a reference), never a remote call.
            foreach (var contract in new[] { _service }.Concat(_service.AllInterfaces).Where(i => !RpcContractRules.IsProxyLifetimeInterface(i)))
            {
                foreach (var member in contract.GetMembers())
                {
                    _cancellationToken.ThrowIfCancellationRequested();
                    if (ParseMember(contract, member, taken) is not { } method)
                    {
                        continue;
                    }

                    if (ids.TryGetValue(method.Id, out var other))
                    {
                        _errors.Add($"methods '{other}' and '{method.Name}' have the same id 0x{method.Id:x8}");
                    }
                    else
                    {
                        ids.Add(method.Id, method.Name);
                    }

                    methods.Add((method, contract, RpcContractRules.PinnedOrdinal((IMethodSymbol)member)));
                }
            }

            return AssignCapnpOrdinals(methods).ToEquatableArray();
        }

        private MethodSpec? ParseMember(INamedTypeSymbol contract, ISymbol member, HashSet<string> taken)
        {
            switch (member)
            {
                case IMethodSymbol { MethodKind: MethodKind.Ordinary } method:
                    if (method.IsStatic)
                    {
                        if (method.IsAbstract || method.IsVirtual)
                        {
                            _errors.Add($"static abstract member '{method.Name}' cannot be called remotely");
                        }

                        return null;
                    }

                    // A default-implemented method is not part of the wire contract; the proxy inherits it.
                    return method.IsAbstract ? ParseMethod(contract, method, taken) : null;
                case IPropertySymbol { IsAbstract: true } property:
                    _errors.Add($"property '{property.Name}' cannot be called remotely; service interfaces declare methods only");
                    return null;
                case IEventSymbol { IsAbstract: true } @event:
                    _errors.Add($"event '{@event.Name}' cannot be called remotely; service interfaces declare methods only");
                    return null;
                default:
                    return null;
            }
        }

        private MethodSpec? ParseMethod(INamedTypeSymbol contract, IMethodSymbol method, HashSet<string> taken)
        {
            var errorCount = _errors.Count;
            var name = method.Name;
            if (method.IsGenericMethod)
            {
                _errors.Add($"method '{name}' is generic");
            }

            var isOneWay = RpcContractRules.HasAttribute(method, RpcContractRules.OneWayAttribute);
            var shape = RpcContractRules.ClassifyReturn(method.ReturnType, out var resultType);
            var responseStream = ParseResponseStream(method, shape, ref resultType);
            switch (shape)
            {
                case ReturnShape.Unsupported when responseStream is null:
                    _errors.Add($"method '{name}' returns '{method.ReturnType.ToDisplayString(RpcContractRules.IdFormat)}'; use Task, Task<T>, ValueTask, ValueTask<T>, IAsyncEnumerable<T>, an [RpcService] interface, or void with [OneWay]");
                    break;
                case ReturnShape.Void when !isOneWay:
                    _errors.Add($"method '{name}' returns void but is not [OneWay]");
                    break;
                case ReturnShape.Task or ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT or ReturnShape.Promise when isOneWay:
                    _errors.Add($"[OneWay] method '{name}' must return void or ValueTask");
                    break;
            }

            var pinned = RpcContractRules.PinnedOrdinal(method);
            if (pinned is < 0)
            {
                _errors.Add($"method '{name}' pins a negative ordinal");
            }

            var parameters = new List<ParameterSpec>();
            StreamSpec? requestStream = null;
            string? cancellationTokenName = null;
            for (var i = 0; i < method.Parameters.Length; i++)
            {
                var parameter = method.Parameters[i];
                if (parameter.RefKind != RefKind.None)
                {
                    _errors.Add($"parameter '{parameter.Name}' of '{name}' is passed by reference");
                    continue;
                }

                if (RpcContractRules.IsCancellationToken(parameter.Type))
                {
                    if (i != method.Parameters.Length - 1)
                    {
                        _errors.Add($"the CancellationToken of '{name}' must be its last parameter");
                    }

                    cancellationTokenName = Escape(parameter.Name);
                    continue;
                }

                var context = $"parameter '{parameter.Name}' of '{name}'";
                var streamShape = RpcContractRules.ClassifyStream(parameter.Type, out var itemType);
                if (streamShape != StreamShape.None)
                {
                    if (requestStream is not null)
                    {
                        _errors.Add($"method '{name}' {RpcContractRules.MoreThanOneRequestStream}");
                    }

                    requestStream = StreamOf(parameter.Type, streamShape, itemType, context) with
                    {
                        Name = Escape(parameter.Name),
                        Index = parameters.Count,
                    };
                    continue;
                }

                var key = Visit(parameter.Type, context);
                parameters.Add(new ParameterSpec(
                    Escape(parameter.Name),
                    PascalCase(parameter.Name),
                    parameter.Type.ToDisplayString(RpcContractRules.FullyQualified),
                    key,
                    parameter.Type.IsValueType));
            }

            if (isOneWay && (requestStream is not null || responseStream is not null))
            {
                _errors.Add($"[OneWay] method '{name}' cannot stream");
            }

            string? resultKey = null;
            if (resultType is not null)
            {
                resultKey = Visit(resultType, $"the result of '{name}'");
            }

            if (_errors.Count != errorCount)
            {
                return null;
            }

            var kind =
                isOneWay ? CallKind.OneWay :
                requestStream is not null && responseStream is not null ? CallKind.DuplexStreaming :
                requestStream is not null ? CallKind.ClientStreaming :
                responseStream is not null ? CallKind.ServerStreaming :
                CallKind.Unary;
            var memberName = UniqueMemberName(name, taken);
            var envelopeName = memberName + "Request";
            return new MethodSpec(
                Name: Escape(name),
                MemberName: memberName,
                DeclaringInterface: contract.ToDisplayString(KeyFormat),
                Id: RpcContractRules.MethodId(method, pinned),
                ReturnShape: shape,
                IsOneWay: isOneWay,
                ReturnType: method.ReturnType.ToDisplayString(RpcContractRules.FullyQualified),
                ResultType: resultType?.ToDisplayString(RpcContractRules.FullyQualified),
                ResultKey: resultKey,
                Parameters: DeduplicateFieldNames(parameters, envelopeName).ToEquatableArray(),
                CancellationTokenName: cancellationTokenName,
                Kind: kind,
                RequestStream: requestStream,
                ResponseStream: responseStream,
                IsIdempotent: RpcContractRules.HasAttribute(method, RpcContractRules.IdempotentAttribute),
                AuthorizationPolicies: RpcContractRules.AuthorizationPolicies(_service)
                    .Concat(RpcContractRules.AuthorizationPolicies(method))
                    .Distinct()
                    .ToEquatableArray());
        }

        /// <summary>
        /// A streamed result: <c>IAsyncEnumerable&lt;T&gt;</c> returned directly, or a <c>Stream</c>
        /// through <c>Task</c>/<c>ValueTask</c> (then <paramref name="resultType"/> is cleared: the
        /// stream is not a value to format).
        /// </summary>
        private StreamSpec? ParseResponseStream(IMethodSymbol method, ReturnShape shape, ref ITypeSymbol? resultType)
        {
            var context = $"the result of '{method.Name}'";
            switch (RpcContractRules.ClassifyResultStream(method.ReturnType, out var itemType, out var problem))
            {
                case StreamShape.Items:
                    return StreamOf(method.ReturnType, StreamShape.Items, itemType, context);
                case StreamShape.Bytes:
                    var stream = StreamOf(resultType!, StreamShape.Bytes, null, context) with
                    {
                        Wrapper = shape == ReturnShape.TaskOfT ? StreamWrapper.Task : StreamWrapper.ValueTask,
                    };
                    resultType = null;
                    return stream;
                default:
                    if (problem is not null)
                    {
                        _errors.Add($"method '{method.Name}' {problem}");

                        // Nothing to format: the declared result is a stream, not a value.
                        resultType = null;
                    }

                    return null;
            }
        }

        private StreamSpec StreamOf(ITypeSymbol declared, StreamShape shape, ITypeSymbol? itemType, string context)
        {
            var declaredType = declared.ToDisplayString(RpcContractRules.FullyQualified);
            if (shape == StreamShape.Bytes)
            {
                return new StreamSpec(string.Empty, -1, declaredType, StreamSpec.BytesItem, StreamSpec.BytesItem, IsBytes: true, StreamWrapper.None);
            }

            var itemKey = Visit(itemType!, context + " (stream item)");
            return new StreamSpec(string.Empty, -1, declaredType, itemKey, itemType!.ToDisplayString(RpcContractRules.FullyQualified), IsBytes: false, StreamWrapper.None);
        }

        /// <summary>The descriptor name: the method name, with a suffix for overloads and names the generated class already uses.</summary>
        private static string UniqueMemberName(string name, HashSet<string> taken)
        {
            var candidate = name;
            for (var suffix = 2; taken.Contains(candidate) || taken.Contains(candidate + "Request") || taken.Contains(candidate + "RequestFormatter"); suffix++)
            {
                candidate = name + "_" + suffix.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            taken.Add(candidate);
            taken.Add(candidate + "Request");
            taken.Add(candidate + "RequestFormatter");
            return candidate;
        }

        /// <summary>
        /// Envelope fields are the parameter names in PascalCase; <c>a</c> and <c>A</c> would clash,
        /// and so would a field named like its struct, so those get a suffix.
        /// </summary>
        private static IEnumerable<ParameterSpec> DeduplicateFieldNames(List<ParameterSpec> parameters, string envelopeName)
        {
            var taken = new HashSet<string>(StringComparer.Ordinal) { envelopeName };
            foreach (var parameter in parameters)
            {
                var field = parameter.FieldName;
                for (var suffix = 2; !taken.Add(field); suffix++)
                {
                    field = parameter.FieldName + suffix.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                yield return parameter with { FieldName = field };
            }
        }

        // ------------------------------------------------------------------ types

        /// <summary>
        /// Makes sure a spec exists for <paramref name="type"/> and everything it reaches, and returns
        /// its key. The slot is reserved before the type's parts are visited, so recursive DTOs
        /// (a tree node with a list of nodes) terminate.
        /// </summary>
        private string Visit(ITypeSymbol type, string context, ISymbol? member = null)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var key = type.ToDisplayString(KeyFormat);

            // A formatter named on the member is that member's alone: its spec has a key of its own.
            var typeFormatter = RpcContractRules.UserFormatter(type, null, _service.ContainingAssembly, out _);
            var userFormatter = member is null ? typeFormatter : RpcContractRules.UserFormatter(type, member, _service.ContainingAssembly, out _);
            var memberOnly = userFormatter is not null && !SymbolEqualityComparer.Default.Equals(userFormatter, typeFormatter);
            var formattedType = key;
            if (memberOnly)
            {
                key = key + " with " + userFormatter!.ToDisplayString(KeyFormat);
            }

            if (_typeIndex.ContainsKey(key))
            {
                if (_rejectedTypes.TryGetValue(key, out var earlier))
                {
                    _errors.Add($"{context}: {earlier}");
                }

                return key;
            }

            var slot = _types.Count;
            _typeIndex.Add(key, slot);
            _types.Add(null);

            if (userFormatter is not null)
            {
                _types[slot] = Simple(key, TypeShape.UserFormatted, UniqueIdentifier(type) + (memberOnly ? "_" + userFormatter.Name : string.Empty), type.IsValueType) with
                {
                    UserFormatter = userFormatter.ToDisplayString(KeyFormat),
                    FormattedType = memberOnly ? formattedType : null,
                };
                return key;
            }

            var shape = RpcContractRules.Classify(type, out var reason);
            if (shape != TypeShape.Unsupported && type is INamedTypeSymbol named)
            {
                if (!IsAccessibleFromNamespace(named))
                {
                    return Reject($"'{type.ToDisplayString(RpcContractRules.IdFormat)}' is not accessible to generated code; make it public or internal");
                }

                _allPublic &= IsPublic(named);
            }

            switch (shape)
            {
                case TypeShape.Unsupported when CanBeNamedInGeneratedCode(type):
                    return Unsupported(reason ?? "the type is not supported");
                case TypeShape.Unsupported:
                    return Reject(reason ?? "the type is not supported");
                case TypeShape.Service:
                    if (WhyNoGeneratedCode((INamedTypeSymbol)type) is { } missing)
                    {
                        return Reject(missing);
                    }

                    _types[slot] = Simple(key, shape, UniqueIdentifier(type), isValueType: false) with { CapnpId = CapnpInterfaceId((INamedTypeSymbol)type), ContainingType = ContainingTypeKey(type) };
                    return key;
                case TypeShape.Builtin:
                    _types[slot] = Simple(key, shape, BuiltinIdentifier(type), type.IsValueType);
                    return key;
                case TypeShape.Enum:
                    var underlying = ((INamedTypeSymbol)type).EnumUnderlyingType!;
                    _types[slot] = Simple(key, shape, UniqueIdentifier(type), isValueType: true) with
                    {
                        EnumUnderlyingType = underlying.ToDisplayString(KeyFormat),
                        EnumMembers = SequentialEnumMembers((INamedTypeSymbol)type),
                        CapnpId = PinnedTypeId(type),
                        ContainingType = ContainingTypeKey(type),
                    };
                    return key;
                case TypeShape.Nullable:
                    var inner = ((INamedTypeSymbol)type).TypeArguments[0];
                    _types[slot] = Composite(key, shape, type, true, Visit(inner, context));
                    return key;
                case TypeShape.Array:
                    _types[slot] = Composite(key, shape, type, true, Visit(((IArrayTypeSymbol)type).ElementType, context));
                    return key;
                case TypeShape.List:
                    var list = (INamedTypeSymbol)type;
                    var elementKey = Visit(list.TypeArguments[0], context);
                    _types[slot] = Composite(key, shape, type, IsConcrete(list, "System.Collections.Generic.List<T>"), elementKey) with
                    {
                        Factory = RpcContractRules.CollectionFactory(list, [elementKey]),
                    };
                    return key;
                case TypeShape.Dictionary:
                    var dictionary = (INamedTypeSymbol)type;
                    var keyKey = Visit(dictionary.TypeArguments[0], context);
                    var valueKey = Visit(dictionary.TypeArguments[1], context);
                    _types[slot] = Composite(key, shape, type, IsConcrete(dictionary, "System.Collections.Generic.Dictionary<TKey, TValue>"), keyKey, valueKey) with
                    {
                        Factory = RpcContractRules.CollectionFactory(dictionary, [keyKey, valueKey]),
                    };
                    return key;
                case TypeShape.Lazy:
                    _types[slot] = Composite(key, shape, type, true, Visit(((INamedTypeSymbol)type).TypeArguments[0], context));
                    return key;
                case TypeShape.Dto:
                    var identifier = UniqueIdentifier(type);
                    var dto = ParseDto((INamedTypeSymbol)type, out var dtoProblem);
                    _types[slot] = dtoProblem is not null
                        ? Simple(key, TypeShape.Unsupported, identifier, type.IsValueType) with { UnsupportedReason = dtoProblem }
                        : Simple(key, shape, identifier, type.IsValueType) with { Dto = dto, CapnpId = PinnedTypeId(type), ContainingType = ContainingTypeKey(type) };
                    return key;
                case TypeShape.Polymorphic:
                    var polymorphic = ParsePolymorphic((INamedTypeSymbol)type, key, out var polymorphicProblem);
                    _types[slot] = polymorphicProblem is not null
                        ? Simple(key, TypeShape.Unsupported, polymorphic.Identifier, type.IsValueType) with { UnsupportedReason = polymorphicProblem }
                        : polymorphic with { CapnpId = PinnedTypeId(type), ContainingType = ContainingTypeKey(type) };
                    return key;
                default:
                    return Reject($"'{type.ToDisplayString(RpcContractRules.IdFormat)}' is not supported");
            }

            string Reject(string why)
            {
                _rejectedTypes[key] = why;
                _errors.Add($"{context}: {why}");
                return key;
            }

            // The analyzers report it (RPC0008) at the member that holds it; the rest of the contract is
            // generated, and this type's formatter fails any call that carries one, saying why.
            string Unsupported(string why)
            {
                _types[slot] = Simple(key, TypeShape.Unsupported, UniqueIdentifier(type), type.IsValueType) with { UnsupportedReason = why };
                return key;
            }
        }

        /// <summary>
        /// Whether generated code can use the type as a type argument (<c>IRpcFormatter&lt;T&gt;</c>), so an
        /// unsupported one can get a formatter that fails instead of sinking the whole contract: not a pointer,
        /// a ref struct, an open type parameter or a type that does not resolve.
        /// </summary>
        private static bool CanBeNamedInGeneratedCode(ITypeSymbol type) =>
            type.TypeKind is not (TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.TypeParameter or TypeKind.Error or TypeKind.Dynamic) &&
            !type.IsRefLikeType &&
            (type is not IArrayTypeSymbol array || CanBeNamedInGeneratedCode(array.ElementType)) &&
            (type is not INamedTypeSymbol named || named.TypeArguments.All(CanBeNamedInGeneratedCode));

        /// <summary>
        /// Why a service passed by reference has no generated proxy and dispatcher for
        /// <c>RpcServiceRegistry</c> to find at run time, or null when it has: this service itself; a service
        /// of this compilation the generator accepts (judged by parsing it); or a service of a referenced
        /// assembly whose generated registration is there.
        /// </summary>
        private string? WhyNoGeneratedCode(INamedTypeSymbol service)
        {
            var name = service.ToDisplayString(RpcContractRules.IdFormat);
            if (!SymbolEqualityComparer.Default.Equals(service.ContainingAssembly, _service.ContainingAssembly))
            {
                return RpcContractRules.HasGeneratedRegistration(service)
                    ? null
                    : $"[RpcService] '{name}' comes from assembly '{service.ContainingAssembly?.Name}', which was built without the RpcGen generator, so it has no proxy or dispatcher";
            }

            // A service still being judged is on a cycle (IA passes IB, IB passes IA): each one's own parse
            // decides about it, so assume the best here.
            if (_servicesJudged.TryGetValue(service, out var verdict))
            {
                return verdict;
            }

            _servicesJudged[service] = null;
            var referenced = new Parser(service, _cancellationToken, _servicesJudged);
            referenced.ParseService();
            verdict = referenced._errors.Count == 0
                ? null
                : $"[RpcService] '{name}' has no generated code, because {referenced._errors[0]}";
            _servicesJudged[service] = verdict;
            return verdict;
        }

        /// <summary>The id pinned by <c>[RpcTypeId]</c>, or 0.</summary>
        private static ulong PinnedTypeId(ITypeSymbol type) =>
            RpcContractRules.GetAttribute(type, RpcContractRules.RpcTypeIdAttribute) is { ConstructorArguments.Length: 1 } attribute && attribute.ConstructorArguments[0].Value is ulong id ? id : 0;

        /// <summary>The member names in value order when the values are exactly 0, 1, 2…; otherwise empty.</summary>
        private static EquatableArray<string> SequentialEnumMembers(INamedTypeSymbol type) =>
            RpcContractRules.SequentialEnumMembers(type).ToEquatableArray();

        private static TypeSpec Simple(string key, TypeShape shape, string identifier, bool isValueType) =>
            new(key, shape, identifier, isValueType, EquatableArray<string>.Empty, false, null, null, EquatableArray<KnownTypeSpec>.Empty);

        private TypeSpec Composite(string key, TypeShape shape, ITypeSymbol type, bool isConcrete, params string[] arguments) =>
            new(key, shape, UniqueIdentifier(type), type.IsValueType, arguments.ToEquatableArray(), isConcrete, null, null, EquatableArray<KnownTypeSpec>.Empty);

        private static bool IsConcrete(INamedTypeSymbol type, string definition) =>
            type.ConstructedFrom.ToDisplayString(RpcContractRules.IdFormat) == definition;

        /// <summary>A polymorphic base with its known subtypes; <paramref name="problem"/> says why it cannot be one.</summary>
        private TypeSpec ParsePolymorphic(INamedTypeSymbol type, string key, out string? problem)
        {
            problem = null;
            var name = type.ToDisplayString(RpcContractRules.IdFormat);
            var spec = Simple(key, TypeShape.Polymorphic, UniqueIdentifier(type), false);
            if (type.IsValueType)
            {
                problem = $"struct '{name}' cannot have [RpcKnownType] subtypes";
                return spec;
            }

            var known = new List<KnownTypeSpec>();
            var tags = new HashSet<int>();
            foreach (var attribute in type.GetAttributes())
            {
                if (!RpcContractRules.IsNamed(attribute.AttributeClass, RpcContractRules.RpcKnownTypeAttribute) ||
                    attribute.ConstructorArguments.Length != 2 ||
                    attribute.ConstructorArguments[0].Value is not INamedTypeSymbol subtype ||
                    attribute.ConstructorArguments[1].Value is not int tag)
                {
                    continue;
                }

                var subtypeName = subtype.ToDisplayString(RpcContractRules.IdFormat);
                if (tag < 0 || !tags.Add(tag))
                {
                    problem ??= $"known type '{subtypeName}' of '{name}' needs a non-negative tag unique within the base";
                    continue;
                }

                if (!DerivesFrom(subtype, type))
                {
                    problem ??= $"known type '{subtypeName}' does not derive from '{name}'";
                    continue;
                }

                if (RpcContractRules.Classify(subtype, out _) != TypeShape.Dto)
                {
                    problem ??= $"known type '{subtypeName}' of '{name}' must be a concrete class or struct without [RpcKnownType] subtypes of its own; list every subtype on the root";
                    continue;
                }

                known.Add(new KnownTypeSpec(tag, Visit(subtype, $"known type '{subtypeName}'")));
            }

            // A concrete base can be sent as itself (tag -1); an abstract base or an interface cannot.
            DtoSpec? dto = null;
            if (type.TypeKind == TypeKind.Class && !type.IsAbstract)
            {
                dto = ParseDto(type, out var dtoProblem);
                problem ??= dtoProblem;
            }

            return spec with { Dto = dto, KnownTypes = known.ToEquatableArray() };
        }

        private static bool DerivesFrom(INamedTypeSymbol subtype, INamedTypeSymbol baseType)
        {
            if (baseType.TypeKind == TypeKind.Interface)
            {
                return subtype.AllInterfaces.Contains(baseType, SymbolEqualityComparer.Default);
            }

            for (var current = subtype.BaseType; current is not null; current = current.BaseType)
            {
                if (SymbolEqualityComparer.Default.Equals(current, baseType))
                {
                    return true;
                }
            }

            return false;
        }

        // ------------------------------------------------------------------ DTOs

        /// <summary>
        /// The members and construction of a DTO; <paramref name="problem"/> says why generated code cannot
        /// write or rebuild it (then the result is null).
        /// </summary>
        private DtoSpec? ParseDto(INamedTypeSymbol type, out string? problem)
        {
            problem = null;
            var typeName = type.ToDisplayString(RpcContractRules.IdFormat);
            var members = RpcContractRules.SerializedMembers(type);
            var positions = RpcContractRules.WirePositions(type, members, out problem);
            if (positions is null)
            {
                return null;
            }

            var constructor = ChooseConstructor(type, members);
            if (constructor is null)
            {
                problem = $"'{typeName}' has no public constructor whose parameters all match serialized members, and no parameterless one";
                return null;
            }

            var setsRequiredMembers = constructor.GetAttributes().Any(a =>
                RpcContractRules.IsNamed(a.AttributeClass, "System.Diagnostics.CodeAnalysis.SetsRequiredMembersAttribute"));
            var constructorArguments = constructor.Parameters
                .Select(p => members.First(m => string.Equals(m.Name, p.Name, StringComparison.OrdinalIgnoreCase)).Name)
                .ToList();

            var specs = new List<MemberSpec>();
            for (var i = 0; i < members.Count; i++)
            {
                var member = members[i];
                var memberType = MemberType(member);
                var inConstructor = constructorArguments.Contains(member.Name);
                var settable = IsSettable(member);
                var required = member is IPropertySymbol { IsRequired: true } or IFieldSymbol { IsRequired: true };
                if (!inConstructor && !settable)
                {
                    problem = $"member '{typeName}.{member.Name}' {RpcContractRules.WhyNotSettable(member) ?? "is read-only"} and the constructor used to rebuild '{type.Name}' does not take it";
                    return null;
                }

                var key = Visit(memberType, $"member '{typeName}.{member.Name}'", member);
                var assignment =
                    required && !setsRequiredMembers ? MemberAssignment.Initializer :
                    inConstructor ? MemberAssignment.Constructor :
                    IsInitOnly(member) ? MemberAssignment.Initializer :
                    MemberAssignment.Setter;
                specs.Add(new MemberSpec(
                    Escape(member.Name),
                    memberType.ToDisplayString(RpcContractRules.FullyQualified),
                    key,
                    memberType.IsValueType,
                    positions[i],
                    assignment));
            }

            return new DtoSpec(
                specs.OrderBy(m => m.Position).ToEquatableArray(),
                constructorArguments.Select(Escape).ToEquatableArray(),
                type.IsTupleType ? ValueTupleName(type.TupleUnderlyingType ?? type) : null);
        }

        /// <summary>
        /// The public constructor whose parameters all match serialized members by name
        /// (case-insensitive) and type, preferring the one with most parameters (a record's primary
        /// constructor); the parameterless one qualifies trivially.
        /// </summary>
        private static IMethodSymbol? ChooseConstructor(INamedTypeSymbol type, IReadOnlyList<ISymbol> members)
        {
            IMethodSymbol? best = null;
            foreach (var constructor in type.InstanceConstructors)
            {
                if (constructor.DeclaredAccessibility != Accessibility.Public)
                {
                    continue;
                }

                var matches = constructor.Parameters.All(p => members.Any(m =>
                    string.Equals(m.Name, p.Name, StringComparison.OrdinalIgnoreCase) &&
                    SymbolEqualityComparer.Default.Equals(MemberType(m), p.Type)));
                if (matches && (best is null || constructor.Parameters.Length > best.Parameters.Length))
                {
                    best = constructor;
                }
            }

            return best;
        }

        /// <summary><c>global::System.ValueTuple&lt;int, string&gt;</c>: what <c>new</c> takes for the tuple <c>(int, string)</c>.</summary>
        private static string ValueTupleName(INamedTypeSymbol tuple) =>
            "global::System.ValueTuple<" + string.Join(", ", tuple.TypeArguments.Select(a => a.ToDisplayString(RpcContractRules.FullyQualified))) + ">";

        private static ITypeSymbol MemberType(ISymbol member) => member switch
        {
            IPropertySymbol property => property.Type,
            IFieldSymbol field => field.Type,
            _ => throw new ArgumentException("A serialized member is a property or a field.", nameof(member)),
        };

        private static bool IsInitOnly(ISymbol member) => member is IPropertySymbol { SetMethod.IsInitOnly: true };

        private static bool IsSettable(ISymbol member) => member switch
        {
            IPropertySymbol property => property.SetMethod is { DeclaredAccessibility: Accessibility.Public },
            IFieldSymbol field => !field.IsReadOnly && !field.IsConst,
            _ => false,
        };

        // ------------------------------------------------------------------ names

        /// <summary>Whether another assembly can name the type: it, the types that contain it, and its type arguments are public.</summary>
        private static bool IsPublic(INamedTypeSymbol type)
        {
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                if (current.DeclaredAccessibility != Accessibility.Public)
                {
                    return false;
                }

                foreach (var argument in current.TypeArguments)
                {
                    if (argument is INamedTypeSymbol namedArgument && !IsPublic(namedArgument))
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        /// <summary>Whether generated code at namespace level in this assembly can name the type.</summary>
        private bool IsAccessibleFromNamespace(INamedTypeSymbol type)
        {
            var sameAssembly = SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, _service.ContainingAssembly);
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                var ok = current.DeclaredAccessibility switch
                {
                    Accessibility.Public => true,
                    Accessibility.Internal or Accessibility.ProtectedOrInternal => sameAssembly,
                    _ => false,
                };
                if (!ok)
                {
                    return false;
                }

                foreach (var argument in current.TypeArguments)
                {
                    if (argument is INamedTypeSymbol namedArgument && !IsAccessibleFromNamespace(namedArgument))
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        /// <summary>The runtime formatter's name without <c>Formatter</c>: <c>Int32</c>, <c>ByteArray</c>, <c>ReadOnlyMemoryOfByte</c>.</summary>
        private static string BuiltinIdentifier(ITypeSymbol type) => type switch
        {
            IArrayTypeSymbol => "ByteArray",
            INamedTypeSymbol { IsGenericType: true } named => named.Name + "OfByte",
            _ => type.SpecialType == SpecialType.System_String ? "String" : type.MetadataName,
        };

        /// <summary>A readable identifier for the type's formatter, unique within the service: <c>Page_HelloReply</c>, <c>List_String</c>, <c>Item_Array</c>.</summary>
        private string UniqueIdentifier(ITypeSymbol type)
        {
            var baseName = Mangle(type);
            var candidate = baseName;
            for (var suffix = 2; !_identifiers.Add(candidate); suffix++)
            {
                candidate = baseName + suffix.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return candidate;
        }

        private static string Mangle(ITypeSymbol type)
        {
            switch (type)
            {
                case IArrayTypeSymbol array:
                    return Mangle(array.ElementType) + "_Array";
                case INamedTypeSymbol named:
                    var builder = new StringBuilder();
                    for (var outer = named.ContainingType; outer is not null; outer = outer.ContainingType)
                    {
                        builder.Insert(0, outer.Name + "_");
                    }

                    builder.Append(named.SpecialType == SpecialType.None ? named.Name : named.MetadataName);
                    foreach (var argument in named.TypeArguments)
                    {
                        builder.Append('_').Append(Mangle(argument));
                    }

                    return builder.ToString();
                default:
                    return "Type";
            }
        }

        private static string Escape(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

        internal static string PascalCase(string name)
        {
            if (name.Length == 0 || !char.IsLower(name[0]))
            {
                return name;
            }

            var pascal = char.ToUpperInvariant(name[0]) + name.Substring(1);
            return SyntaxFacts.GetKeywordKind(pascal) != SyntaxKind.None ? "@" + pascal : pascal;
        }
    }
}
