using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// The RpcGen attribute types of one compilation, resolved once at compilation start so symbol actions
/// compare symbols instead of names.
/// </summary>
internal sealed class RpcSymbols
{
    private RpcSymbols(Compilation compilation, INamedTypeSymbol rpcService)
    {
        RpcService = rpcService;
        RpcMethod = compilation.GetTypeByMetadataName(RpcContractRules.RpcMethodAttribute);
        OneWay = compilation.GetTypeByMetadataName(RpcContractRules.OneWayAttribute);
        RpcMember = compilation.GetTypeByMetadataName(RpcContractRules.RpcMemberAttribute);
        RpcKnownType = compilation.GetTypeByMetadataName(RpcContractRules.RpcKnownTypeAttribute);
        CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        ReferencesCapabilityTransport = compilation.GetTypeByMetadataName(CapabilityTransportMarker) is not null;
    }

    /// <summary>The type whose presence means the capability transport is referenced (as the generator checks).</summary>
    private const string CapabilityTransportMarker = "RpcGen.Capnp.ICapnpProxy";

    /// <summary>Whether the compilation references the capability transport: only then are Cap'n Proto rules reported.</summary>
    public bool ReferencesCapabilityTransport { get; }

    /// <summary><c>RpcGen.RpcServiceAttribute</c>.</summary>
    public INamedTypeSymbol RpcService { get; }

    /// <summary><c>RpcGen.RpcMethodAttribute</c>, if referenced.</summary>
    public INamedTypeSymbol? RpcMethod { get; }

    /// <summary><c>RpcGen.OneWayAttribute</c>, if referenced.</summary>
    public INamedTypeSymbol? OneWay { get; }

    /// <summary><c>RpcGen.RpcMemberAttribute</c>, if referenced.</summary>
    public INamedTypeSymbol? RpcMember { get; }

    /// <summary><c>RpcGen.RpcKnownTypeAttribute</c>, if referenced.</summary>
    public INamedTypeSymbol? RpcKnownType { get; }

    /// <summary><c>System.Threading.CancellationToken</c>.</summary>
    public INamedTypeSymbol? CancellationToken { get; }

    /// <summary>The symbols, or null when the compilation does not reference RpcGen.Abstractions (nothing to analyze).</summary>
    public static RpcSymbols? Create(Compilation compilation) =>
        compilation.GetTypeByMetadataName(RpcContractRules.RpcServiceAttribute) is { } rpcService
            ? new RpcSymbols(compilation, rpcService)
            : null;

    /// <summary>Whether <paramref name="type"/> is an interface marked <c>[RpcService]</c>.</summary>
    public bool IsService(ITypeSymbol type) =>
        type.TypeKind == TypeKind.Interface && Find(type, RpcService) is not null;

    /// <summary>Whether <paramref name="type"/> is <c>System.Threading.CancellationToken</c>.</summary>
    public bool IsCancellationToken(ITypeSymbol type) =>
        CancellationToken is not null && SymbolEqualityComparer.Default.Equals(type, CancellationToken);

    /// <summary>The first application of <paramref name="attribute"/> on <paramref name="symbol"/>.</summary>
    public static AttributeData? Find(ISymbol symbol, INamedTypeSymbol? attribute) =>
        attribute is null ? null : symbol.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attribute));

    /// <summary>
    /// The constructor argument at <paramref name="index"/> of an attribute applied through the constructor
    /// with <paramref name="count"/> parameters, when it has type <typeparamref name="T"/>.
    /// </summary>
    public static bool TryGetArgument<T>(AttributeData? attribute, int count, int index, out T value)
    {
        if (attribute is not null && attribute.ConstructorArguments.Length == count && attribute.ConstructorArguments[index].Value is T typed)
        {
            value = typed;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Every application of <paramref name="attribute"/> on <paramref name="symbol"/>, in source order.</summary>
    public static ImmutableArray<AttributeData> FindAll(ISymbol symbol, INamedTypeSymbol? attribute) =>
        attribute is null
            ? ImmutableArray<AttributeData>.Empty
            : symbol.GetAttributes().Where(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attribute)).ToImmutableArray();

    /// <summary>
    /// The members a service owns: the ones it declares, then those of base interfaces that are not
    /// services themselves (an <c>[RpcService]</c> base is analyzed on its own) nor <c>IAsyncDisposable</c>
    /// (the generated proxy implements it to release a reference).
    /// </summary>
    public IEnumerable<ISymbol> OwnedMembers(INamedTypeSymbol service)
    {
        foreach (var member in service.GetMembers())
        {
            yield return member;
        }

        foreach (var baseInterface in service.AllInterfaces)
        {
            if (IsService(baseInterface) || RpcContractRules.IsProxyLifetimeInterface(baseInterface))
            {
                continue;
            }

            foreach (var member in baseInterface.GetMembers())
            {
                yield return member;
            }
        }
    }

    /// <summary>
    /// The methods of <see cref="OwnedMembers"/> that become remote calls: abstract instance methods. A
    /// default-implemented method is not part of the wire contract (the proxy inherits it), exactly as the
    /// generator treats it.
    /// </summary>
    public IEnumerable<IMethodSymbol> OwnedMethods(INamedTypeSymbol service) =>
        OwnedMembers(service).OfType<IMethodSymbol>().Where(IsRemoteMethod);

    /// <summary>
    /// Every method the service's dispatcher answers: the remote methods it declares and those of all its
    /// base interfaces, services or not, in the generator's order (the service first).
    /// </summary>
    public static IEnumerable<IMethodSymbol> AllRemoteMethods(INamedTypeSymbol service) =>
        new[] { service }.Concat(service.AllInterfaces)
            .Where(i => !RpcContractRules.IsProxyLifetimeInterface(i))
            .SelectMany(i => i.GetMembers()).OfType<IMethodSymbol>().Where(IsRemoteMethod);

    private static bool IsRemoteMethod(IMethodSymbol method) =>
        method.MethodKind == MethodKind.Ordinary && !method.IsStatic && method.IsAbstract;
}
