// Shared by the generator and the analyzers (linked into both) so that what the analyzers accept is
// exactly what the generator can emit.
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace RpcGen.Generators.Shared;

/// <summary>How a method returns.</summary>
internal enum ReturnShape
{
    /// <summary>Not a supported return type.</summary>
    Unsupported,

    /// <summary><c>void</c> (one-way only).</summary>
    Void,

    /// <summary><c>Task</c>.</summary>
    Task,

    /// <summary><c>Task&lt;T&gt;</c>.</summary>
    TaskOfT,

    /// <summary><c>ValueTask</c>.</summary>
    ValueTask,

    /// <summary><c>ValueTask&lt;T&gt;</c>.</summary>
    ValueTaskOfT,

    /// <summary>
    /// An <c>[RpcService]</c> interface returned directly: the caller gets a promise at once and calls
    /// on it before the result exists (pipelined where the transport can).
    /// </summary>
    Promise,
}

/// <summary>How a type travels on the wire.</summary>
internal enum TypeShape
{
    /// <summary>Cannot be serialized; see the reason.</summary>
    Unsupported,

    /// <summary>A type the runtime formats itself (numbers, string, byte[], DateTime, Guid…).</summary>
    Builtin,

    /// <summary>An enum, written as its underlying integer.</summary>
    Enum,

    /// <summary><c>Nullable&lt;T&gt;</c> of a supported value type.</summary>
    Nullable,

    /// <summary><c>T[]</c> (one dimension).</summary>
    Array,

    /// <summary><c>List&lt;T&gt;</c> or a read-only/list interface (<c>IList</c>, <c>IReadOnlyList</c>, <c>ICollection</c>, <c>IReadOnlyCollection</c>, <c>IEnumerable</c>), read back as a <c>List&lt;T&gt;</c>.</summary>
    List,

    /// <summary><c>Dictionary&lt;K,V&gt;</c>, <c>IDictionary</c> or <c>IReadOnlyDictionary</c>, read back as a <c>Dictionary</c>.</summary>
    Dictionary,

    /// <summary>A class, record or struct serialized member by member.</summary>
    Dto,

    /// <summary>A DTO base with <c>[RpcKnownType]</c> subtypes.</summary>
    Polymorphic,

    /// <summary>An <c>[RpcService]</c> interface, passed by reference (a capability the peer calls back), not by value.</summary>
    Service,

    /// <summary><c>Lazy&lt;T&gt;</c>: written as its value, read back as a <c>Lazy</c> holding it.</summary>
    Lazy,

    /// <summary>Formatted by a user formatter named with <c>[RpcUseFormatter]</c> (see <see cref="RpcContractRules.UserFormatter"/>).</summary>
    UserFormatted,
}

/// <summary>How a parameter or a result streams, if it does.</summary>
internal enum StreamShape
{
    /// <summary>Not a stream: the value travels whole.</summary>
    None,

    /// <summary><c>IAsyncEnumerable&lt;T&gt;</c>: a stream of items, each formatted as <c>T</c>.</summary>
    Items,

    /// <summary><c>System.IO.Stream</c>: a stream of raw byte chunks.</summary>
    Bytes,
}

/// <summary>The rules both the generator and the analyzers apply to contracts.</summary>
internal static class RpcContractRules
{
    public const string RpcServiceAttribute = "RpcGen.RpcServiceAttribute";
    public const string RpcMethodAttribute = "RpcGen.RpcMethodAttribute";
    public const string OneWayAttribute = "RpcGen.OneWayAttribute";

    /// <summary>The metadata name of <c>[Idempotent]</c>.</summary>
    public const string IdempotentAttribute = "RpcGen.IdempotentAttribute";

    /// <summary>The metadata name of <c>[RpcAuthorize]</c>.</summary>
    public const string RpcAuthorizeAttribute = "RpcGen.RpcAuthorizeAttribute";
    public const string RpcMemberAttribute = "RpcGen.RpcMemberAttribute";
    public const string RpcIgnoreAttribute = "RpcGen.RpcIgnoreAttribute";
    public const string RpcKnownTypeAttribute = "RpcGen.RpcKnownTypeAttribute";
    public const string RpcTypeIdAttribute = "RpcGen.RpcTypeIdAttribute";

    /// <summary>The metadata name of <c>[RpcUseFormatter]</c>.</summary>
    public const string RpcUseFormatterAttribute = "RpcGen.RpcUseFormatterAttribute";

    /// <summary>The interface a user formatter implements, as <see cref="IdFormat"/> shows its definition.</summary>
    private const string FormatterInterface = "RpcGen.Serialization.IRpcFormatter<T>";

    /// <summary>The fully qualified display format used for type names in specs and generated code.</summary>
    public static readonly SymbolDisplayFormat FullyQualified = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(
            SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers |
            SymbolDisplayMiscellaneousOptions.UseSpecialTypes |
            SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>The same, without <c>global::</c> and without nullable annotations: the text hashed into method ids.</summary>
    public static readonly SymbolDisplayFormat IdFormat = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    /// <summary>FNV-1a, 64 bit, over the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static ulong Fnv1a64(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return hash;
    }

    /// <summary>FNV-1a, 32 bit, over the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static uint Fnv1a32(string text)
    {
        uint hash = 2166136261U;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 16777619U;
        }

        return hash;
    }

    /// <summary>
    /// The service id: the pinned one, or FNV-1a 64 of the interface's full name
    /// (<c>Namespace.Outer.IName</c>), never zero.
    /// </summary>
    public static ulong ServiceId(INamedTypeSymbol service, ulong pinned)
    {
        if (pinned != 0)
        {
            return pinned;
        }

        var id = Fnv1a64(service.ToDisplayString(IdFormat));
        return id == 0 ? 1 : id;
    }

    /// <summary>
    /// The method id: the pinned ordinal, or FNV-1a 32 of <c>Name(T1,T2)</c> (parameter types by full
    /// name, the trailing cancellation token left out) with the top bit set, so derived ids never
    /// collide with pinned ordinals (which are below 2^31).
    /// </summary>
    public static uint MethodId(IMethodSymbol method, int? pinned)
    {
        if (pinned is { } ordinal)
        {
            return (uint)ordinal;
        }

        return Fnv1a32(MethodSignatureText(method)) | 0x80000000u;
    }

    /// <summary>The text hashed into a derived method id.</summary>
    public static string MethodSignatureText(IMethodSymbol method)
    {
        var parameters = method.Parameters
            .Where(p => !IsCancellationToken(p.Type))
            .Select(p => p.Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(IdFormat));
        return method.Name + "(" + string.Join(",", parameters) + ")";
    }

    public static bool IsCancellationToken(ITypeSymbol type) =>
        type.ToDisplayString(IdFormat) == "System.Threading.CancellationToken";

    public static bool HasAttribute(ISymbol symbol, string metadataName) =>
        symbol.GetAttributes().Any(a => IsNamed(a.AttributeClass, metadataName));

    /// <summary>
    /// Whether <paramref name="type"/> is the type named <paramref name="metadataName"/> (in <see cref="IdFormat"/>).
    /// A symbol can carry many attributes (an assembly's, a framework type's), and a display string
    /// allocates, so the simple name is checked first and the display string built only for a likely match.
    /// </summary>
    public static bool IsNamed(INamedTypeSymbol? type, string metadataName) =>
        type is not null && metadataName.IndexOf(type.Name, System.StringComparison.Ordinal) >= 0 && type.ToDisplayString(IdFormat) == metadataName;

    /// <summary>The policy names of the <c>[RpcAuthorize]</c> attributes on <paramref name="symbol"/>, in declaration order.</summary>
    public static IEnumerable<string> AuthorizationPolicies(ISymbol symbol) =>
        symbol.GetAttributes()
            .Where(a => IsNamed(a.AttributeClass, RpcAuthorizeAttribute))
            .Select(a => a.ConstructorArguments.Length == 1 ? a.ConstructorArguments[0].Value as string : null)
            .Where(policy => !string.IsNullOrEmpty(policy))
            .Select(policy => policy!);

    public static AttributeData? GetAttribute(ISymbol symbol, string metadataName) =>
        symbol.GetAttributes().FirstOrDefault(a => IsNamed(a.AttributeClass, metadataName));

    public static bool IsRpcService(ITypeSymbol type) =>
        type.TypeKind == TypeKind.Interface && HasAttribute(type, RpcServiceAttribute);

    /// <summary>
    /// Whether <paramref name="type"/> is <c>System.IAsyncDisposable</c>: every generated proxy implements it
    /// to release a service reference, so a contract that inherits it does not make <c>DisposeAsync</c> a
    /// remote call.
    /// </summary>
    public static bool IsProxyLifetimeInterface(ITypeSymbol type) =>
        type.ToDisplayString(IdFormat) == "System.IAsyncDisposable";

    /// <summary>The suffix of the generated module initializer class: <c>GreeterRpcRegistration</c>.</summary>
    public const string RegistrationSuffix = "RpcRegistration";

    /// <summary>
    /// The prefix of a service's generated type names: <c>IGreeter</c> → <c>Greeter</c>;
    /// <c>Outer.IGreeter</c> → <c>Outer_Greeter</c>; <c>Ifoo</c> stays.
    /// </summary>
    public static string GeneratedBaseName(INamedTypeSymbol service)
    {
        var name = service.Name;
        if (name.Length > 1 && name[0] == 'I' && char.IsUpper(name[1]))
        {
            name = name.Substring(1);
        }

        for (var outer = service.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            name = outer.Name + "_" + name;
        }

        return name;
    }

    /// <summary>
    /// Whether the generator ran for <paramref name="service"/> in the assembly that declares it (another
    /// assembly than the one being compiled): its module initializer class is there, so
    /// <c>RpcServiceRegistry</c> finds the proxy and dispatcher at run time.
    /// </summary>
    public static bool HasGeneratedRegistration(INamedTypeSymbol service)
    {
        var name = GeneratedBaseName(service) + RegistrationSuffix;
        var metadataName = service.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() + "." + name : name;
        return service.ContainingAssembly?.GetTypeByMetadataName(metadataName) is not null;
    }

    /// <summary>The pinned service id of an <c>[RpcService]</c> interface, or zero.</summary>
    public static ulong PinnedServiceId(INamedTypeSymbol service)
    {
        var attribute = GetAttribute(service, RpcServiceAttribute);
        if (attribute is { ConstructorArguments.Length: 1 } && attribute.ConstructorArguments[0].Value is ulong id)
        {
            return id;
        }

        return 0;
    }

    /// <summary>The pinned ordinal of a method, if any.</summary>
    public static int? PinnedOrdinal(IMethodSymbol method)
    {
        var attribute = GetAttribute(method, RpcMethodAttribute);
        if (attribute is { ConstructorArguments.Length: 1 } && attribute.ConstructorArguments[0].Value is int ordinal)
        {
            return ordinal;
        }

        return null;
    }

    /// <summary>
    /// The Cap'n Proto interface id of an <c>[RpcService]</c> interface: the pinned service id, or the derived
    /// one with the top bit set (as Cap'n Proto's own generated ids have), which no existing peer knows.
    /// </summary>
    public static ulong CapnpInterfaceId(INamedTypeSymbol contract)
    {
        var pinned = PinnedServiceId(contract);
        return pinned != 0 ? pinned : ServiceId(contract, 0) | (1ul << 63);
    }

    /// <summary>
    /// The Cap'n Proto ordinals of one interface's methods, given their <c>[RpcMethod]</c> ordinals in
    /// declaration order: a pinned ordinal stays, and each unpinned method takes the lowest ordinal still
    /// free, in declaration order (not its declaration position, which a pinned method may hold).
    /// </summary>
    public static int[] CapnpOrdinals(IReadOnlyList<int?> pinned)
    {
        var used = new HashSet<int>(pinned.Where(p => p is not null).Select(p => p!.Value));
        var ordinals = new int[pinned.Count];
        for (var i = 0; i < pinned.Count; i++)
        {
            if (pinned[i] is { } ordinal)
            {
                ordinals[i] = ordinal;
                continue;
            }

            var next = 0;
            while (!used.Add(next))
            {
                next++;
            }

            ordinals[i] = next;
        }

        return ordinals;
    }

    /// <summary>Classifies a method's return type; <paramref name="resultType"/> is the <c>T</c> of <c>Task&lt;T&gt;</c>/<c>ValueTask&lt;T&gt;</c>.</summary>
    public static ReturnShape ClassifyReturn(ITypeSymbol returnType, out ITypeSymbol? resultType)
    {
        resultType = null;
        if (returnType.SpecialType == SpecialType.System_Void)
        {
            return ReturnShape.Void;
        }

        if (returnType is not INamedTypeSymbol named)
        {
            return ReturnShape.Unsupported;
        }

        var name = named.ConstructedFrom.ToDisplayString(IdFormat);
        switch (name)
        {
            case "System.Threading.Tasks.Task":
                return ReturnShape.Task;
            case "System.Threading.Tasks.ValueTask":
                return ReturnShape.ValueTask;
            case "System.Threading.Tasks.Task<TResult>":
                resultType = named.TypeArguments[0];
                return ReturnShape.TaskOfT;
            case "System.Threading.Tasks.ValueTask<TResult>":
                resultType = named.TypeArguments[0];
                return ReturnShape.ValueTaskOfT;
            default:
                if (IsRpcService(named))
                {
                    resultType = named;
                    return ReturnShape.Promise;
                }

                return ReturnShape.Unsupported;
        }
    }

    /// <summary>
    /// Whether <paramref name="type"/> streams: <c>IAsyncEnumerable&lt;T&gt;</c> (<paramref name="itemType"/>
    /// is <c>T</c>) or <c>System.IO.Stream</c>. A method streams its requests through at most one such
    /// parameter, and its responses by returning <c>IAsyncEnumerable&lt;T&gt;</c>, <c>Task&lt;Stream&gt;</c>
    /// or <c>ValueTask&lt;Stream&gt;</c> (see <see cref="ClassifyResultStream"/>). <see cref="Classify"/>
    /// still calls these types unsupported: they cannot be DTO members, collection elements or stream items.
    /// </summary>
    public static StreamShape ClassifyStream(ITypeSymbol type, out ITypeSymbol? itemType)
    {
        itemType = null;
        if (type is not INamedTypeSymbol named)
        {
            return StreamShape.None;
        }

        switch (named.ConstructedFrom.ToDisplayString(IdFormat))
        {
            case "System.Collections.Generic.IAsyncEnumerable<T>":
                itemType = named.TypeArguments[0];
                return StreamShape.Items;
            case "System.IO.Stream":
                return StreamShape.Bytes;
            default:
                return StreamShape.None;
        }
    }

    /// <summary>
    /// The streamed result of a method with return type <paramref name="returnType"/>:
    /// <see cref="StreamShape.Items"/> for <c>IAsyncEnumerable&lt;T&gt;</c> returned directly
    /// (<paramref name="itemType"/> is <c>T</c>), <see cref="StreamShape.Bytes"/> for <c>Task&lt;Stream&gt;</c>
    /// or <c>ValueTask&lt;Stream&gt;</c>, else <see cref="StreamShape.None"/>. <paramref name="problem"/> says
    /// why a stream is declared in a way no call can carry (a <c>Stream</c> returned synchronously, an
    /// <c>IAsyncEnumerable&lt;T&gt;</c> inside a task); the result is then <see cref="StreamShape.None"/>.
    /// </summary>
    public static StreamShape ClassifyResultStream(ITypeSymbol returnType, out ITypeSymbol? itemType, out string? problem)
    {
        problem = null;
        switch (ClassifyStream(returnType, out itemType))
        {
            case StreamShape.Items:
                return StreamShape.Items;
            case StreamShape.Bytes:
                problem = SynchronousStreamResult;
                return StreamShape.None;
        }

        if (ClassifyReturn(returnType, out var resultType) is ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT)
        {
            switch (ClassifyStream(resultType!, out _))
            {
                case StreamShape.Bytes:
                    return StreamShape.Bytes;
                case StreamShape.Items:
                    problem = ItemStreamInTask;
                    return StreamShape.None;
            }
        }

        return StreamShape.None;
    }

    /// <summary>Why a method that returns <c>Stream</c> itself is rejected (follows "method 'M' ").</summary>
    public const string SynchronousStreamResult = "returns a Stream synchronously; return Task<Stream> or ValueTask<Stream>";

    /// <summary>Why a method that returns <c>Task&lt;IAsyncEnumerable&lt;T&gt;&gt;</c> is rejected (follows "method 'M' ").</summary>
    public const string ItemStreamInTask = "wraps IAsyncEnumerable<T> in a task; return IAsyncEnumerable<T> directly";

    /// <summary>Why a method with two stream parameters is rejected (follows "method 'M' ").</summary>
    public const string MoreThanOneRequestStream = "streams more than one parameter; a call carries at most one request stream";

    /// <summary>Why a stream found inside a value (a DTO member, a collection element, a stream item) is rejected.</summary>
    public const string StreamInsideValue = "a stream can only be a parameter or the result of a service method, not part of a value";

    /// <summary>
    /// The collections (beyond <c>List&lt;T&gt;</c>, <c>Dictionary&lt;K,V&gt;</c> and their interfaces) written as a
    /// MessagePack array or map and rebuilt by an expression over <c>items</c> (a <c>List&lt;T&gt;</c>) or
    /// <c>map</c> (a <c>Dictionary&lt;K,V&gt;</c>), where <c>{0}</c> is the element or key type and <c>{1}</c> the
    /// value type. Sets and hashed maps read from the wire use the collision-resistant comparer.
    /// </summary>
    private static readonly Dictionary<string, (bool IsMap, string Factory)> CollectionFactories = new()
    {
        ["System.Collections.Generic.HashSet<T>"] = (false, HashSetFactory),
        ["System.Collections.Generic.ISet<T>"] = (false, HashSetFactory),
        ["System.Collections.Generic.IReadOnlySet<T>"] = (false, HashSetFactory),
        ["System.Collections.Generic.SortedSet<T>"] = (false, "new global::System.Collections.Generic.SortedSet<{0}>(items)"),
        ["System.Collections.Generic.Queue<T>"] = (false, "new global::System.Collections.Generic.Queue<{0}>(items)"),
        ["System.Collections.Generic.Stack<T>"] = (false, "new global::System.Collections.Generic.Stack<{0}>(global::System.Linq.Enumerable.Reverse(items))"),
        ["System.Collections.Generic.LinkedList<T>"] = (false, "new global::System.Collections.Generic.LinkedList<{0}>(items)"),
        ["System.Collections.Immutable.ImmutableArray<T>"] = (false, "global::System.Collections.Immutable.ImmutableArray.CreateRange(items)"),
        ["System.Collections.Immutable.ImmutableList<T>"] = (false, "global::System.Collections.Immutable.ImmutableList.CreateRange(items)"),
        ["System.Collections.Immutable.IImmutableList<T>"] = (false, "global::System.Collections.Immutable.ImmutableList.CreateRange(items)"),
        ["System.Collections.Immutable.ImmutableHashSet<T>"] = (false, "global::System.Collections.Immutable.ImmutableHashSet.CreateRange(global::RpcGen.Serialization.CollisionResistantComparer<{0}>.Instance, items)"),
        ["System.Collections.Immutable.IImmutableSet<T>"] = (false, "global::System.Collections.Immutable.ImmutableHashSet.CreateRange(global::RpcGen.Serialization.CollisionResistantComparer<{0}>.Instance, items)"),
        ["System.Collections.Immutable.ImmutableSortedSet<T>"] = (false, "global::System.Collections.Immutable.ImmutableSortedSet.CreateRange(items)"),
        ["System.Collections.Immutable.ImmutableQueue<T>"] = (false, "global::System.Collections.Immutable.ImmutableQueue.CreateRange(items)"),
        ["System.Collections.Immutable.IImmutableQueue<T>"] = (false, "global::System.Collections.Immutable.ImmutableQueue.CreateRange(items)"),
        ["System.Collections.Immutable.ImmutableStack<T>"] = (false, "global::System.Collections.Immutable.ImmutableStack.CreateRange(global::System.Linq.Enumerable.Reverse(items))"),
        ["System.Collections.Immutable.IImmutableStack<T>"] = (false, "global::System.Collections.Immutable.ImmutableStack.CreateRange(global::System.Linq.Enumerable.Reverse(items))"),
        ["System.Collections.Generic.SortedDictionary<TKey, TValue>"] = (true, "new global::System.Collections.Generic.SortedDictionary<{0}, {1}>(map)"),
        ["System.Collections.Generic.SortedList<TKey, TValue>"] = (true, "new global::System.Collections.Generic.SortedList<{0}, {1}>(map)"),
        ["System.Collections.Concurrent.ConcurrentDictionary<TKey, TValue>"] = (true, "new global::System.Collections.Concurrent.ConcurrentDictionary<{0}, {1}>(map, global::RpcGen.Serialization.CollisionResistantComparer<{0}>.Instance)"),
        ["System.Collections.Immutable.ImmutableDictionary<TKey, TValue>"] = (true, ImmutableDictionaryFactory),
        ["System.Collections.Immutable.IImmutableDictionary<TKey, TValue>"] = (true, ImmutableDictionaryFactory),
        ["System.Collections.Immutable.ImmutableSortedDictionary<TKey, TValue>"] = (true, "global::System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(map)"),
    };

    private const string HashSetFactory = "new global::System.Collections.Generic.HashSet<{0}>(items, global::RpcGen.Serialization.CollisionResistantComparer<{0}>.Instance)";
    private const string ImmutableDictionaryFactory = "global::System.Collections.Immutable.ImmutableDictionary.CreateRange(global::RpcGen.Serialization.CollisionResistantComparer<{0}>.Instance, map)";

    /// <summary>
    /// For a collection rebuilt by a factory (see <see cref="CollectionFactories"/>): the expression, with the
    /// element (or key and value) types filled in from <paramref name="argumentKeys"/>; null for
    /// <c>List&lt;T&gt;</c>, <c>Dictionary&lt;K,V&gt;</c> and their interfaces.
    /// </summary>
    public static string? CollectionFactory(INamedTypeSymbol type, IReadOnlyList<string> argumentKeys) =>
        CollectionFactories.TryGetValue(type.ConstructedFrom.ToDisplayString(IdFormat), out var entry)
            ? string.Format(System.Globalization.CultureInfo.InvariantCulture, entry.Factory, argumentKeys.Cast<object>().ToArray())
            : null;

    /// <summary>
    /// Classifies how <paramref name="type"/> is serialized. Only looks at the type itself; a DTO's
    /// members are classified when the DTO is walked. <paramref name="reason"/> says why a type is
    /// unsupported.
    /// </summary>
    public static TypeShape Classify(ITypeSymbol type, out string? reason)
    {
        reason = null;
        switch (type.SpecialType)
        {
            case SpecialType.System_Boolean:
            case SpecialType.System_Byte:
            case SpecialType.System_SByte:
            case SpecialType.System_Int16:
            case SpecialType.System_UInt16:
            case SpecialType.System_Int32:
            case SpecialType.System_UInt32:
            case SpecialType.System_Int64:
            case SpecialType.System_UInt64:
            case SpecialType.System_Single:
            case SpecialType.System_Double:
            case SpecialType.System_Decimal:
            case SpecialType.System_Char:
            case SpecialType.System_String:
            case SpecialType.System_DateTime:
                return TypeShape.Builtin;
            case SpecialType.System_Object:
                reason = "'object' has no schema; use a concrete type or a base with [RpcKnownType] subtypes";
                return TypeShape.Unsupported;
        }

        switch (type.TypeKind)
        {
            case TypeKind.Pointer:
            case TypeKind.FunctionPointer:
                reason = "pointers cannot cross a process boundary";
                return TypeShape.Unsupported;
            case TypeKind.Delegate:
                reason = "delegates cannot be serialized; pass an [RpcService] interface to call back";
                return TypeShape.Unsupported;
            case TypeKind.Dynamic:
                reason = "'dynamic' has no schema";
                return TypeShape.Unsupported;
            case TypeKind.TypeParameter:
                reason = "open generic type parameters are not supported";
                return TypeShape.Unsupported;
            case TypeKind.Error:
                reason = "the type does not resolve";
                return TypeShape.Unsupported;
            case TypeKind.Enum:
                return TypeShape.Enum;
        }

        if (type is IArrayTypeSymbol array)
        {
            if (array.Rank != 1)
            {
                reason = "multi-dimensional arrays are not supported; use jagged arrays";
                return TypeShape.Unsupported;
            }

            return array.ElementType.SpecialType == SpecialType.System_Byte ? TypeShape.Builtin : TypeShape.Array;
        }

        if (type is not INamedTypeSymbol named)
        {
            reason = "the type is not supported";
            return TypeShape.Unsupported;
        }

        if (named.IsRefLikeType)
        {
            reason = "ref structs (Span and the like) cannot be stored in a message";
            return TypeShape.Unsupported;
        }

        var definition = named.ConstructedFrom.ToDisplayString(IdFormat);
        switch (definition)
        {
            case "System.Guid":
            case "System.TimeSpan":
            case "System.DateTimeOffset":
            case "System.DateOnly":
            case "System.TimeOnly":
            case "System.Half":
            case "System.Int128":
            case "System.UInt128":
            case "System.Numerics.BigInteger":
            case "System.Uri":
            case "System.Version":
            case "System.Collections.BitArray":
                return TypeShape.Builtin;
            case "System.ReadOnlyMemory<T>":
            case "System.Memory<T>":
            case "System.ArraySegment<T>":
                if (named.TypeArguments[0].SpecialType == SpecialType.System_Byte)
                {
                    return TypeShape.Builtin;
                }

                reason = $"'{named.ToDisplayString(IdFormat)}' is supported for bytes only; use T[] or List<T> for other elements";
                return TypeShape.Unsupported;
            case "System.Nullable<T>":
                return TypeShape.Nullable;
            case "System.Lazy<T>":
                return TypeShape.Lazy;
            case "System.Collections.Generic.KeyValuePair<TKey, TValue>":
                return TypeShape.Dto;
            case "System.Collections.Generic.List<T>":
            case "System.Collections.Generic.IList<T>":
            case "System.Collections.Generic.IReadOnlyList<T>":
            case "System.Collections.Generic.ICollection<T>":
            case "System.Collections.Generic.IReadOnlyCollection<T>":
            case "System.Collections.Generic.IEnumerable<T>":
                return TypeShape.List;
            case "System.Collections.Generic.Dictionary<TKey, TValue>":
            case "System.Collections.Generic.IDictionary<TKey, TValue>":
            case "System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>":
                return TypeShape.Dictionary;
            case var _ when CollectionFactories.TryGetValue(definition, out var factory):
                return factory.IsMap ? TypeShape.Dictionary : TypeShape.List;
            case var _ when named.IsTupleType || definition.StartsWith("System.Tuple<", System.StringComparison.Ordinal):
                // Tuples are DTOs whose members are Item1…ItemN (and Rest), rebuilt through their constructor.
                return TypeShape.Dto;
            case "System.Threading.CancellationToken":
                reason = "a CancellationToken is only allowed as the last parameter of a method";
                return TypeShape.Unsupported;
            case "System.Threading.Tasks.Task":
            case "System.Threading.Tasks.Task<TResult>":
            case "System.Threading.Tasks.ValueTask":
            case "System.Threading.Tasks.ValueTask<TResult>":
                reason = "tasks cannot be serialized";
                return TypeShape.Unsupported;
            case "System.Type":
                reason = "System.Type cannot be serialized";
                return TypeShape.Unsupported;
            case "System.Collections.Generic.IAsyncEnumerable<T>":
            case "System.IO.Stream":
                reason = StreamInsideValue;
                return TypeShape.Unsupported;
        }

        if (named.TypeKind == TypeKind.Interface)
        {
            if (IsRpcService(named))
            {
                return TypeShape.Service;
            }

            if (HasAttribute(named, RpcKnownTypeAttribute))
            {
                return TypeShape.Polymorphic;
            }

            reason = $"interface '{named.Name}' is neither an [RpcService] nor a base with [RpcKnownType] subtypes";
            return TypeShape.Unsupported;
        }

        if (named.ContainingNamespace?.ToDisplayString() is { } ns &&
            (ns == "System" || ns.StartsWith("System.", System.StringComparison.Ordinal)))
        {
            reason = $"'{named.ToDisplayString(IdFormat)}' is a framework type without an RpcGen formatter; use a type from the README's type table, or a DTO of your own";
            return TypeShape.Unsupported;
        }

        if (named.TypeKind is TypeKind.Class or TypeKind.Struct)
        {
            if (HasAttribute(named, RpcKnownTypeAttribute))
            {
                return TypeShape.Polymorphic;
            }

            if (named.IsAbstract)
            {
                reason = $"abstract class '{named.Name}' needs [RpcKnownType] subtypes to be serialized";
                return TypeShape.Unsupported;
            }

            return TypeShape.Dto;
        }

        reason = "the type is not supported";
        return TypeShape.Unsupported;
    }

    /// <summary>
    /// The values 0, 1, 2… of an enum's members, by value; empty unless the values are exactly 0 to n−1
    /// (the shape of a Cap'n Proto enum).
    /// </summary>
    public static string[] SequentialEnumMembers(INamedTypeSymbol type)
    {
        var fields = type.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue).ToList();
        var byValue = new string[fields.Count];
        foreach (var field in fields)
        {
            if (field.ConstantValue is ulong big && big > long.MaxValue)
            {
                return [];
            }

            var value = System.Convert.ToInt64(field.ConstantValue, System.Globalization.CultureInfo.InvariantCulture);
            if (value < 0 || value >= fields.Count || byValue[value] is not null)
            {
                return [];
            }

            byValue[value] = field.Name;
        }

        return byValue;
    }

    /// <summary>
    /// Why the Cap'n Proto binding cannot carry <paramref name="method"/> (a stream both ways, or a parameter,
    /// result or stream item whose type has no Cap'n Proto form), or null. The same rule the generator's
    /// Cap'n Proto model applies to the parsed contract (<c>CapnpModel</c>): such a method stays in the schema
    /// and every call of it over Cap'n Proto fails with <c>Unimplemented</c>; the message transport carries it.
    /// A streamed parameter or result alone travels through a sink capability (<c>-&gt; stream</c>).
    /// <paramref name="type"/> is the type with no Cap'n Proto form, or null for a stream both ways.
    /// </summary>
    public static string? CapnpProblem(IMethodSymbol method, out ITypeSymbol? type)
    {
        type = null;
        var resultStream = ClassifyResultStream(method.ReturnType, out var resultItem, out _);
        if (resultStream != StreamShape.None && method.Parameters.Any(p => ClassifyStream(p.Type, out _) != StreamShape.None))
        {
            return "it streams both ways, and the Cap'n Proto binding maps a streamed parameter or a streamed result, not both";
        }

        var visiting = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        foreach (var parameter in method.Parameters)
        {
            if (IsCancellationToken(parameter.Type))
            {
                continue;
            }

            switch (ClassifyStream(parameter.Type, out var item))
            {
                case StreamShape.Items when CapnpTypeProblem(item!, visiting, out type) is { } itemWhy:
                    return $"the items of parameter '{parameter.Name}': {itemWhy}";
                case StreamShape.None when CapnpTypeProblem(parameter.Type, visiting, out type) is { } why:
                    return $"parameter '{parameter.Name}': {why}";
            }
        }

        if (resultStream == StreamShape.Items)
        {
            return CapnpTypeProblem(resultItem!, visiting, out type) is { } itemWhy ? $"the items of the result: {itemWhy}" : null;
        }

        if (resultStream == StreamShape.None && ClassifyReturn(method.ReturnType, out var result) is not ReturnShape.Unsupported && result is not null &&
            CapnpTypeProblem(result, visiting, out type) is { } resultWhy)
        {
            return $"the result: {resultWhy}";
        }

        return null;
    }

    /// <summary>
    /// Why <paramref name="type"/> has no Cap'n Proto form, or null: numbers, bool, string, byte[], enums
    /// with the values 0, 1, 2…, arrays and lists of such, DTOs of such, [RpcKnownType] bases (abstract, or
    /// concrete without members of their own) with at least two subtypes, and [RpcService] interfaces have one.
    /// </summary>
    public static string? CapnpTypeProblem(ITypeSymbol type, HashSet<ITypeSymbol> visiting, out ITypeSymbol? culprit)
    {
        culprit = type;
        if (!visiting.Add(type))
        {
            culprit = null;
            return null;
        }

        var name = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(IdFormat);
        switch (Classify(type, out _))
        {
            case TypeShape.Builtin when type.SpecialType is SpecialType.System_Boolean or SpecialType.System_SByte or SpecialType.System_Byte
                or SpecialType.System_Int16 or SpecialType.System_UInt16 or SpecialType.System_Int32 or SpecialType.System_UInt32
                or SpecialType.System_Int64 or SpecialType.System_UInt64 or SpecialType.System_Single or SpecialType.System_Double
                or SpecialType.System_String:
            case TypeShape.Builtin when type is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_Byte }:
            case TypeShape.Service:
                break;
            case TypeShape.Enum when SequentialEnumMembers((INamedTypeSymbol)type).Length > 0:
                break;
            case TypeShape.Enum:
                return $"enum '{name}' needs the values 0, 1, 2… to be a Cap'n Proto enum";
            case TypeShape.Array:
                return CapnpTypeProblem(((IArrayTypeSymbol)type).ElementType, visiting, out culprit);
            case TypeShape.List when type is INamedTypeSymbol list && CollectionFactory(list, ["T"]) is null:
                return CapnpTypeProblem(list.TypeArguments[0], visiting, out culprit);
            case TypeShape.Dto:
                foreach (var member in SerializedMembers((INamedTypeSymbol)type))
                {
                    if (CapnpTypeProblem(MemberType(member), visiting, out culprit) is { } why)
                    {
                        return why;
                    }
                }

                break;
            case TypeShape.Polymorphic:
                // Only a concrete base is sent as itself, so only its own members would need a place in the union.
                if (type.TypeKind == TypeKind.Class && !type.IsAbstract && SerializedMembers((INamedTypeSymbol)type).Count > 0)
                {
                    return $"the base '{name}' has members of its own; as a Cap'n Proto union only its subtypes may have members";
                }

                var subtypes = type.GetAttributes()
                    .Where(a => IsNamed(a.AttributeClass, RpcKnownTypeAttribute))
                    .SelectMany(a => a.ConstructorArguments)
                    .Select(a => a.Value)
                    .OfType<INamedTypeSymbol>()
                    .ToList();
                if (subtypes.Count < 2)
                {
                    return $"'{name}' needs at least two [RpcKnownType] subtypes to be a Cap'n Proto union";
                }

                foreach (var subtype in subtypes)
                {
                    foreach (var member in SerializedMembers(subtype))
                    {
                        if (CapnpTypeProblem(MemberType(member), visiting, out culprit) is { } why)
                        {
                            return why;
                        }
                    }
                }

                break;
            default:
                return $"'{name}' has no Cap'n Proto type";
        }

        culprit = null;
        return null;

        static ITypeSymbol MemberType(ISymbol member) => member switch
        {
            IPropertySymbol property => property.Type,
            IFieldSymbol field => field.Type,
            _ => throw new System.ArgumentException("not a member", nameof(member)),
        };
    }

    /// <summary>
    /// The serialized members of a DTO in wire order: base members first, then declaration order; every
    /// public instance field and every public instance property with a getter that holds state (see
    /// <see cref="HoldsState"/>), minus <c>[RpcIgnore]</c>. A member here that generated code cannot set
    /// (a read-only field, a private setter, a get-only auto-property the constructor does not take) is an
    /// error, never skipped: its value would otherwise never arrive.
    /// </summary>
    public static IReadOnlyList<ISymbol> SerializedMembers(INamedTypeSymbol type)
    {
        // A tuple's members are Item1…ItemN (and Rest), whatever its elements are named.
        type = type.TupleUnderlyingType ?? type;
        var chain = new List<INamedTypeSymbol>();
        for (var current = type; current is not null && current.SpecialType != SpecialType.System_Object && current.SpecialType != SpecialType.System_ValueType; current = current.BaseType)
        {
            chain.Insert(0, current);
        }

        var constructorParameters = new HashSet<string>(
            type.InstanceConstructors.Where(c => c.DeclaredAccessibility == Accessibility.Public)
                .SelectMany(c => c.Parameters).Select(p => p.Name.ToLowerInvariant()));

        var result = new List<ISymbol>();
        var seen = new HashSet<string>();
        foreach (var level in chain)
        {
            foreach (var member in level.GetMembers())
            {
                if (member.IsStatic || member.DeclaredAccessibility != Accessibility.Public || (member.IsImplicitlyDeclared && !IsTupleItem(member)))
                {
                    continue;
                }

                if (HasAttribute(member, RpcIgnoreAttribute))
                {
                    continue;
                }

                switch (member)
                {
                    case IFieldSymbol field when !field.IsConst:
                        if (seen.Add(member.Name))
                        {
                            result.Add(member);
                        }

                        break;
                    case IPropertySymbol property when !property.IsIndexer && property.GetMethod is not null:
                        if (property.Name == "EqualityContract")
                        {
                            break;
                        }

                        if (HoldsState(property) || constructorParameters.Contains(property.Name.ToLowerInvariant()))
                        {
                            if (seen.Add(member.Name))
                            {
                                result.Add(member);
                            }
                        }

                        break;
                }
            }
        }

        return result;
    }

    /// <summary>
    /// The wire positions of a DTO's <see cref="SerializedMembers"/>: <c>[RpcMember(n)]</c> pins n; unpinned members follow the highest pinned
    /// position in declaration order. Null (and an error) when pins are negative or repeated.
    /// </summary>
    public static int[]? WirePositions(INamedTypeSymbol type, IReadOnlyList<ISymbol> members, out string? problem)
    {
        problem = null;
        var positions = new int[members.Count];
        var used = new HashSet<int>();
        var next = 0;
        var ok = true;
        for (var i = 0; i < members.Count; i++)
        {
            var attribute = RpcContractRules.GetAttribute(members[i], RpcContractRules.RpcMemberAttribute);
            if (attribute is { ConstructorArguments.Length: 1 } && attribute.ConstructorArguments[0].Value is int pinned)
            {
                if (pinned < 0 || !used.Add(pinned))
                {
                    problem ??= $"member '{type.Name}.{members[i].Name}' pins position {pinned}, which is negative or already taken";
                    ok = false;
                }

                positions[i] = pinned;
                next = System.Math.Max(next, pinned + 1);
            }
            else
            {
                positions[i] = -1;
            }
        }

        for (var i = 0; i < members.Count; i++)
        {
            if (positions[i] == -1)
            {
                positions[i] = next++;
            }
        }

        return ok ? positions : null;
    }

    /// <summary>
    /// The user formatter for <paramref name="type"/>: named by <c>[RpcUseFormatter]</c> on <paramref name="member"/>
    /// (a DTO member holding the type, if any), else on the type, else on <paramref name="assembly"/> (the
    /// contract's assembly) or the type's own assembly for the <c>T</c> it formats. Null when none is named.
    /// <paramref name="problem"/> says why a named formatter cannot be used (then the result is null too).
    /// </summary>
    public static INamedTypeSymbol? UserFormatter(ITypeSymbol type, ISymbol? member, IAssemblySymbol assembly, out string? problem)
    {
        problem = null;
        foreach (var owner in new ISymbol?[] { member, type })
        {
            if (owner is not null && FormatterNamedOn(owner) is { } named)
            {
                problem = WhyNotUsable(named, type);
                return problem is null ? named : null;
            }
        }

        foreach (var source in new[] { assembly, type.ContainingAssembly })
        {
            foreach (var attribute in source?.GetAttributes() ?? ImmutableArray<AttributeData>.Empty)
            {
                if (IsFormatterAttribute(attribute) && attribute.ConstructorArguments[0].Value is INamedTypeSymbol candidate &&
                    FormattedTypes(candidate).Any(t => SymbolEqualityComparer.Default.Equals(t, type)))
                {
                    problem = WhyNotUsable(candidate, type);
                    return problem is null ? candidate : null;
                }
            }
        }

        return null;
    }

    private static INamedTypeSymbol? FormatterNamedOn(ISymbol owner) =>
        owner.GetAttributes().FirstOrDefault(IsFormatterAttribute)?.ConstructorArguments[0].Value as INamedTypeSymbol;

    private static bool IsFormatterAttribute(AttributeData attribute) =>
        IsNamed(attribute.AttributeClass, RpcUseFormatterAttribute) && attribute.ConstructorArguments.Length == 1;

    private static IEnumerable<ITypeSymbol> FormattedTypes(INamedTypeSymbol formatter) =>
        formatter.AllInterfaces.Where(i => i.ConstructedFrom.ToDisplayString(IdFormat) == FormatterInterface).Select(i => i.TypeArguments[0]);

    /// <summary>Why generated code cannot use <paramref name="formatter"/> for <paramref name="type"/>, or null.</summary>
    private static string? WhyNotUsable(INamedTypeSymbol formatter, ITypeSymbol type)
    {
        var name = formatter.ToDisplayString(IdFormat);
        if (!FormattedTypes(formatter).Any(t => SymbolEqualityComparer.Default.Equals(t, type)))
        {
            return $"formatter '{name}' does not implement IRpcFormatter<{type.ToDisplayString(IdFormat)}>";
        }

        if (formatter.IsAbstract || formatter.IsUnboundGenericType || formatter.TypeKind != TypeKind.Class ||
            !formatter.InstanceConstructors.Any(c => c.Parameters.Length == 0 && c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal))
        {
            return $"formatter '{name}' must be a concrete class with a public or internal parameterless constructor";
        }

        return null;
    }

    /// <summary>
    /// Whether <paramref name="member"/> is one of a value tuple's stored fields <c>Item1</c>…<c>Item7</c> (which
    /// the compiler declares implicitly), not the virtual <c>Item8</c>… that reach into <c>Rest</c>.
    /// </summary>
    private static bool IsTupleItem(ISymbol member) =>
        member is IFieldSymbol { ContainingType.IsTupleType: true } field &&
        field.Name.Length == 5 && field.Name.StartsWith("Item", System.StringComparison.Ordinal) && field.Name[4] is >= '1' and <= '7';

    /// <summary>
    /// Whether a property holds state of its own: it has a setter or <c>init</c> of any accessibility, or it
    /// is an auto-property (a get-only one with an initializer included). A get-only property computed from
    /// other members holds none and is not serialized.
    /// </summary>
    public static bool HoldsState(IPropertySymbol property) =>
        property.SetMethod is not null ||
        property.ContainingType.GetMembers().OfType<IFieldSymbol>().Any(f => SymbolEqualityComparer.Default.Equals(f.AssociatedSymbol, property));

    /// <summary>
    /// Why generated code cannot give <paramref name="member"/> its value back when the chosen constructor
    /// does not take it (follows "'Type.Member' "), or null when it can: a public setter, <c>init</c>, or a
    /// writable field.
    /// </summary>
    public static string? WhyNotSettable(ISymbol member) => member switch
    {
        IFieldSymbol { IsReadOnly: true } => "is a read-only field",
        IPropertySymbol { SetMethod: null } => "is a get-only property",
        IPropertySymbol { SetMethod.DeclaredAccessibility: var access } when access != Accessibility.Public =>
            $"has a {AccessibilityText(access)} {(((IPropertySymbol)member).SetMethod!.IsInitOnly ? "init" : "setter")}",
        _ => null,
    };

    private static string AccessibilityText(Accessibility access) => access switch
    {
        Accessibility.Private => "private",
        Accessibility.Protected => "protected",
        Accessibility.Internal => "internal",
        Accessibility.ProtectedOrInternal => "protected internal",
        Accessibility.ProtectedAndInternal => "private protected",
        _ => "non-public",
    };
}
