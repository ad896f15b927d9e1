using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Analyzers.CodeFixes;

/// <summary>Adds a using directive the way a person would: in order among the file's usings.</summary>
internal static class Usings
{
    /// <summary>Adds <c>using <paramref name="namespaceName"/>;</c> to the file unless it is there.</summary>
    public static CompilationUnitSyntax Add(CompilationUnitSyntax root, string namespaceName)
    {
        var existing = root.Usings;
        if (existing.Any(u => u.Alias is null && u.StaticKeyword.IsKind(SyntaxKind.None) && u.Name?.ToString() == namespaceName))
        {
            return root;
        }

        var endOfLine = DetectEndOfLine(root);
        var directive = SyntaxFactory.UsingDirective(SyntaxFactory.ParseName(namespaceName))
            .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithTrailingTrivia(SyntaxFactory.Space))
            .WithTrailingTrivia(endOfLine);

        if (existing.Count == 0)
        {
            // Keep a file header (comments before the first token) above the new directive.
            var firstToken = root.GetFirstToken(includeZeroWidth: true);
            var header = firstToken.LeadingTrivia;
            var newRoot = root.ReplaceToken(firstToken, firstToken.WithLeadingTrivia(SyntaxFactory.TriviaList()));
            return newRoot.WithUsings(SyntaxFactory.SingletonList(directive.WithLeadingTrivia(header).WithTrailingTrivia(endOfLine, endOfLine)));
        }

        var index = 0;
        while (index < existing.Count && Compare(existing[index], namespaceName) < 0)
        {
            index++;
        }

        if (index == 0)
        {
            // The new first directive takes over the file header.
            var header = existing[0].GetLeadingTrivia();
            var list = existing.Replace(existing[0], existing[0].WithLeadingTrivia(SyntaxFactory.TriviaList()));
            return root.WithUsings(list.Insert(0, directive.WithLeadingTrivia(header)));
        }

        return root.WithUsings(existing.Insert(index, directive));
    }

    /// <summary>System namespaces first, then ordinal order: the order 'Sort usings' produces.</summary>
    private static int Compare(UsingDirectiveSyntax directive, string namespaceName)
    {
        if (directive.Alias is not null || !directive.StaticKeyword.IsKind(SyntaxKind.None) || directive.Name is null)
        {
            // Aliases and static usings come after namespace usings.
            return 1;
        }

        var name = directive.Name.ToString();
        var nameIsSystem = IsSystem(name);
        var newIsSystem = IsSystem(namespaceName);
        if (nameIsSystem != newIsSystem)
        {
            return nameIsSystem ? -1 : 1;
        }

        return string.Compare(name, namespaceName, StringComparison.Ordinal);
    }

    private static bool IsSystem(string name) => name == "System" || name.StartsWith("System.", StringComparison.Ordinal);

    private static SyntaxTrivia DetectEndOfLine(SyntaxNode root) =>
        root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { RawKind: (int)SyntaxKind.EndOfLineTrivia } found
            ? found
            : SyntaxFactory.EndOfLine("\n");
}
