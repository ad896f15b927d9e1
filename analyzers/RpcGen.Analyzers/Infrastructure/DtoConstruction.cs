using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace RpcGen.Analyzers;

/// <summary>
/// How generated code rebuilds a DTO on the receiving side, by the generator's rules: through the public
/// constructor whose parameters all match serialized members (by name, ignoring case, and type), the one
/// with most parameters; every other member must be settable.
/// </summary>
internal static class DtoConstruction
{
    /// <summary>The constructor the generator would call, or null when there is none.</summary>
    public static IMethodSymbol? ChooseConstructor(INamedTypeSymbol type, IReadOnlyList<ISymbol> members)
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

    /// <summary>Whether <paramref name="member"/> gets its value back: through <paramref name="constructor"/> or a public setter.</summary>
    public static bool CanRebuild(ISymbol member, IMethodSymbol constructor)
    {
        var settable = member switch
        {
            IPropertySymbol property => property.SetMethod is { DeclaredAccessibility: Accessibility.Public },
            IFieldSymbol field => !field.IsReadOnly && !field.IsConst,
            _ => false,
        };

        return settable || constructor.Parameters.Any(p => string.Equals(p.Name, member.Name, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The type of a serialized member (a property or a field).</summary>
    public static ITypeSymbol MemberType(ISymbol member) => member switch
    {
        IPropertySymbol property => property.Type,
        IFieldSymbol field => field.Type,
        _ => throw new ArgumentException("A serialized member is a property or a field.", nameof(member)),
    };
}
