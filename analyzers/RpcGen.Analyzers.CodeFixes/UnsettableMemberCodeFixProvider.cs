using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Analyzers.CodeFixes;

/// <summary>
/// RPC0017: a DTO property whose state generated code cannot set is made <c>init</c> (a private or
/// protected setter becomes a public <c>init</c>; a get-only auto-property gains one); any such member,
/// field or property, can instead be left out of the wire with <c>[RpcIgnore]</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnsettableMemberCodeFixProvider)), Shared]
public sealed class UnsettableMemberCodeFixProvider : CodeFixProvider
{
    private const string MakeInitKey = nameof(UnsettableMemberCodeFixProvider) + ".MakeInit";
    private const string IgnoreKey = nameof(UnsettableMemberCodeFixProvider) + ".Ignore";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.UnsettableMember);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            if (node.FirstAncestorOrSelf<PropertyDeclarationSyntax>() is { AccessorList: not null } property)
            {
                context.RegisterCodeFix(
                    CodeAction.Create($"Make '{property.Identifier.ValueText}' init", ct => MakeInitAsync(context.Document, property, ct), MakeInitKey),
                    diagnostic);
                context.RegisterCodeFix(
                    CodeAction.Create($"Add [RpcIgnore] to '{property.Identifier.ValueText}'", ct => IgnoreAsync(context.Document, property, ct), IgnoreKey),
                    diagnostic);
            }
            else if (node.FirstAncestorOrSelf<FieldDeclarationSyntax>() is { } field && node.FirstAncestorOrSelf<VariableDeclaratorSyntax>() is { } variable)
            {
                context.RegisterCodeFix(
                    CodeAction.Create($"Add [RpcIgnore] to '{variable.Identifier.ValueText}'", ct => IgnoreAsync(context.Document, field, ct), IgnoreKey),
                    diagnostic);
            }
        }
    }

    // { get; private set; } → { get; init; }     { get; } = x; → { get; init; } = x;
    private static async Task<Document> MakeInitAsync(Document document, PropertyDeclarationSyntax property, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var accessors = property.AccessorList!;
        var setter = accessors.Accessors.FirstOrDefault(a => a.IsKind(SyntaxKind.SetAccessorDeclaration) || a.IsKind(SyntaxKind.InitAccessorDeclaration));
        AccessorListSyntax newAccessors;
        if (setter is not null)
        {
            var keyword = SyntaxFactory.Token(setter.GetLeadingTrivia(), SyntaxKind.InitKeyword, setter.Keyword.TrailingTrivia);
            var init = SyntaxFactory.AccessorDeclaration(
                SyntaxKind.InitAccessorDeclaration,
                setter.AttributeLists,
                SyntaxFactory.TokenList(),
                keyword,
                setter.Body,
                setter.ExpressionBody,
                setter.SemicolonToken);
            newAccessors = accessors.ReplaceNode(setter, init);
        }
        else
        {
            var init = SyntaxFactory.AccessorDeclaration(SyntaxKind.InitAccessorDeclaration)
                .WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken))
                .WithLeadingTrivia(SyntaxFactory.Space);
            var last = accessors.Accessors.Last();
            newAccessors = accessors.ReplaceNode(last, last.WithTrailingTrivia()).AddAccessors(init.WithTrailingTrivia(last.GetTrailingTrivia()));
        }

        return document.WithSyntaxRoot(root!.ReplaceNode(accessors, newAccessors));
    }

    private static async Task<Document> IgnoreAsync(Document document, MemberDeclarationSyntax member, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        var newRoot = root!.ReplaceNode(member, Attributes.AddOnOwnLine(member, "RpcIgnore"));
        return document.WithSyntaxRoot(Attributes.WithRpcGenInScope(newRoot, model, member.SpanStart, "RpcIgnore"));
    }
}
