using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Analyzers.CodeFixes;

/// <summary>Adds an RpcGen attribute to a declaration the way a person would.</summary>
internal static class Attributes
{
    /// <summary>
    /// <paramref name="member"/> with <c>[<paramref name="name"/>]</c> on its own line above it, after any doc
    /// comment, indented like the member; with <paramref name="arguments"/> when given (<c>[RpcMethod(3)]</c>).
    /// </summary>
    public static MemberDeclarationSyntax AddOnOwnLine(MemberDeclarationSyntax member, string name, AttributeArgumentListSyntax? arguments = null)
    {
        var leading = member.GetLeadingTrivia();
        var indentation = leading.LastOrDefault(t => t.IsKind(SyntaxKind.WhitespaceTrivia));
        var endOfLine = member.SyntaxTree.GetRoot().DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { RawKind: (int)SyntaxKind.EndOfLineTrivia } found
            ? found
            : SyntaxFactory.EndOfLine("\n");
        var attribute = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Attribute(SyntaxFactory.IdentifierName(name), arguments)))
            .WithLeadingTrivia(leading)
            .WithTrailingTrivia(endOfLine);
        var firstToken = member.GetFirstToken();
        var updated = member.ReplaceToken(firstToken, firstToken.WithLeadingTrivia(indentation));
        return updated.WithAttributeLists(updated.AttributeLists.Insert(0, attribute));
    }

    /// <summary>
    /// <paramref name="root"/> with <c>using RpcGen;</c> unless <c>{name}Attribute</c> is already in scope at
    /// <paramref name="position"/> of the unchanged document (<paramref name="model"/>).
    /// </summary>
    public static SyntaxNode WithRpcGenInScope(SyntaxNode root, SemanticModel? model, int position, string name) =>
        model?.LookupNamespacesAndTypes(position, name: name + "Attribute").Any() != true && root is CompilationUnitSyntax unit
            ? Usings.Add(unit, "RpcGen")
            : root;
}
