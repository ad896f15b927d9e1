using System.Linq;
using Microsoft.CodeAnalysis;

namespace RpcGen.Analyzers.CodeFixes;

/// <summary>
/// Finds the type a diagnostic names in a property (a documentation comment id) where it is declared in the
/// solution, so a fix can edit that type's file rather than the file the diagnostic is in.
/// </summary>
internal static class DeclaringDocument
{
    /// <summary>
    /// The type whose id <paramref name="diagnostic"/> carries under <paramref name="propertyKey"/>, its first
    /// declaration and the document that holds it; null when it is not declared in the solution.
    /// </summary>
    public static (INamedTypeSymbol Type, SyntaxReference Declaration, Document Document)? Find(Compilation? compilation, Solution solution, Diagnostic diagnostic, string propertyKey)
    {
        if (compilation is null ||
            !diagnostic.Properties.TryGetValue(propertyKey, out var id) || id is null ||
            DocumentationCommentId.GetFirstSymbolForDeclarationId(id, compilation) is not INamedTypeSymbol type ||
            type.DeclaringSyntaxReferences.FirstOrDefault() is not { } reference ||
            solution.GetDocument(reference.SyntaxTree) is not { } document)
        {
            return null;
        }

        return (type, reference, document);
    }
}
