using Microsoft.CodeAnalysis;

namespace RpcGen.Analyzers;

/// <summary>
/// Whether code the generator emits at namespace level of the service's assembly can name a type: the
/// same test the generator applies before it writes a formatter or a proxy.
/// </summary>
internal static class GeneratedCodeAccess
{
    /// <summary>
    /// True when <paramref name="type"/>, every type that contains it and every type argument along the way
    /// are public, or internal to <paramref name="assembly"/>.
    /// </summary>
    public static bool CanName(INamedTypeSymbol type, IAssemblySymbol assembly)
    {
        var sameAssembly = SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, assembly);
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            var accessible = current.DeclaredAccessibility switch
            {
                Accessibility.Public => true,
                Accessibility.Internal or Accessibility.ProtectedOrInternal => sameAssembly,
                _ => false,
            };

            if (!accessible)
            {
                return false;
            }

            foreach (var argument in current.TypeArguments)
            {
                if (argument is INamedTypeSymbol named && !CanName(named, assembly))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
