using System.Collections.Generic;
using System.Linq;
using RpcGen.Generators.Shared;
using Microsoft.CodeAnalysis;

namespace RpcGen.Analyzers;

/// <summary>The relation an <c>[RpcKnownType]</c> subtype must have with the attributed type.</summary>
internal static class KnownTypes
{
    /// <summary>
    /// Whether <paramref name="subtype"/> derives from the class <paramref name="baseType"/>, or implements
    /// the interface <paramref name="baseType"/>. A type is not its own subtype.
    /// </summary>
    public static bool DerivesFrom(INamedTypeSymbol subtype, INamedTypeSymbol baseType)
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

    /// <summary>The subtypes listed by well-formed <c>[RpcKnownType(typeof(T), tag)]</c> attributes on <paramref name="type"/>, in source order.</summary>
    public static IEnumerable<INamedTypeSymbol> Subtypes(INamedTypeSymbol type) => Tagged(type).Select(t => t.Subtype);

    /// <summary>Each well-formed <c>[RpcKnownType(typeof(T), tag)]</c> on <paramref name="type"/> as (subtype, tag, attribute), in source order.</summary>
    public static IEnumerable<(INamedTypeSymbol Subtype, int Tag, AttributeData Attribute)> Tagged(INamedTypeSymbol type) =>
        type.GetAttributes()
            .Where(a => RpcContractRules.IsNamed(a.AttributeClass, RpcContractRules.RpcKnownTypeAttribute))
            .Where(a => RpcSymbols.TryGetArgument(a, 2, 0, out INamedTypeSymbol _) && RpcSymbols.TryGetArgument(a, 2, 1, out int _))
            .Select(a => ((INamedTypeSymbol)a.ConstructorArguments[0].Value!, (int)a.ConstructorArguments[1].Value!, a));
}
