using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Analyzers;

/// <summary>Where to put a diagnostic so that the squiggle lands on the code to change.</summary>
internal static class Locations
{
    /// <summary>The symbol's name in source, or <paramref name="fallback"/>'s (a member inherited from metadata).</summary>
    public static Location Of(ISymbol symbol, ISymbol fallback) =>
        symbol.Locations.FirstOrDefault(l => l.IsInSource) ?? fallback.Locations.FirstOrDefault(l => l.IsInSource) ?? Location.None;

    /// <summary>A method's return type in source, or <see cref="Of"/>.</summary>
    public static Location ReturnTypeOf(IMethodSymbol method, ISymbol fallback) =>
        method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is MethodDeclarationSyntax declaration
            ? declaration.ReturnType.GetLocation()
            : Of(method, fallback);

    /// <summary>A parameter's whole declaration in source, or <see cref="Of"/>.</summary>
    public static Location ParameterOf(IParameterSymbol parameter, ISymbol fallback) =>
        parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is ParameterSyntax declaration
            ? declaration.GetLocation()
            : Of(parameter, fallback);

    /// <summary>A parameter's type in source, or <see cref="Of"/>.</summary>
    public static Location ParameterTypeOf(IParameterSymbol parameter, ISymbol fallback) =>
        parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is ParameterSyntax { Type: { } type }
            ? type.GetLocation()
            : Of(parameter, fallback);

    /// <summary>
    /// The argument of an attribute application that binds to the constructor parameter
    /// <paramref name="parameterName"/> (named, or else at <paramref name="position"/>), or the attribute,
    /// or <paramref name="fallback"/>'s name.
    /// </summary>
    public static Location AttributeArgumentOf(AttributeData attribute, string parameterName, int position, ISymbol fallback)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax() is AttributeSyntax syntax)
        {
            if (syntax.ArgumentList is { } list)
            {
                var arguments = list.Arguments;
                var named = arguments.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == parameterName);
                if (named is not null)
                {
                    return named.GetLocation();
                }

                if (position < arguments.Count && arguments[position].NameColon is null && arguments[position].NameEquals is null)
                {
                    return arguments[position].GetLocation();
                }
            }

            return syntax.GetLocation();
        }

        return Of(fallback, fallback);
    }
}
