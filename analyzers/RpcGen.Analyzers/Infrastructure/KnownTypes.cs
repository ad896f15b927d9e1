using System.Linq;
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
}
