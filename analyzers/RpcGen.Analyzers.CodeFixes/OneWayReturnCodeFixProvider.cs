using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Analyzers.CodeFixes;

/// <summary>
/// RPC0006: a <c>[OneWay]</c> method that returns <c>Task</c> is made to return <c>ValueTask</c> (the
/// one-way shape that still lets the caller await the send); one that returns a value is no longer
/// one-way, since a caller that wants the value needs the reply.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(OneWayReturnCodeFixProvider)), Shared]
public sealed class OneWayReturnCodeFixProvider : CodeFixProvider
{
    private const string ReturnValueTaskKey = nameof(OneWayReturnCodeFixProvider) + ".ReturnValueTask";
    private const string RemoveOneWayKey = nameof(OneWayReturnCodeFixProvider) + ".RemoveOneWay";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.InvalidOneWayReturn);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            var method = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<MethodDeclarationSyntax>();
            if (method is null || model.GetDeclaredSymbol(method, context.CancellationToken) is not { } symbol)
            {
                continue;
            }

            if (symbol.ReturnType is INamedTypeSymbol { IsGenericType: false, Name: "Task" })
            {
                context.RegisterCodeFix(
                    CodeAction.Create("Return ValueTask from the one-way method", ct => ReturnValueTaskAsync(context.Document, method, ct), ReturnValueTaskKey),
                    diagnostic);
            }
            else if (FindOneWayAttribute(method, model, context.CancellationToken) is { } attribute)
            {
                context.RegisterCodeFix(
                    CodeAction.Create("Remove [OneWay]: the method returns a value", ct => RemoveAttributeAsync(context.Document, method, attribute, ct), RemoveOneWayKey),
                    diagnostic);
            }
        }
    }

    private static AttributeSyntax? FindOneWayAttribute(MethodDeclarationSyntax method, SemanticModel model, CancellationToken cancellationToken)
    {
        foreach (var list in method.AttributeLists)
        {
            foreach (var attribute in list.Attributes)
            {
                if (model.GetSymbolInfo(attribute, cancellationToken).Symbol?.ContainingType?.ToDisplayString() == "RpcGen.OneWayAttribute")
                {
                    return attribute;
                }
            }
        }

        return null;
    }

    private static async Task<Document> ReturnValueTaskAsync(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        // Keep the way the user qualified Task (Task, Tasks.Task, global::System.Threading.Tasks.Task):
        // ValueTask lives in the same namespace.
        var oldType = method.ReturnType;
        TypeSyntax newType = oldType switch
        {
            IdentifierNameSyntax name => name.WithIdentifier(Rename(name.Identifier)),
            QualifiedNameSyntax { Right: IdentifierNameSyntax right } qualified => qualified.WithRight(right.WithIdentifier(Rename(right.Identifier))),
            AliasQualifiedNameSyntax { Name: IdentifierNameSyntax right } aliased => aliased.WithName(right.WithIdentifier(Rename(right.Identifier))),
            _ => SyntaxFactory.ParseTypeName("global::System.Threading.Tasks.ValueTask").WithTriviaFrom(oldType),
        };

        return document.WithSyntaxRoot(root.ReplaceNode(oldType, newType));
    }

    private static SyntaxToken Rename(SyntaxToken identifier) =>
        SyntaxFactory.Identifier(identifier.LeadingTrivia, "ValueTask", identifier.TrailingTrivia);

    private static async Task<Document> RemoveAttributeAsync(Document document, MethodDeclarationSyntax method, AttributeSyntax attribute, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || attribute.Parent is not AttributeListSyntax list)
        {
            return document;
        }

        MethodDeclarationSyntax newMethod;
        if (list.Attributes.Count > 1)
        {
            newMethod = method.ReplaceNode(list, list.WithAttributes(list.Attributes.Remove(attribute)));
        }
        else
        {
            // The list sits on its own line: drop the line, and hand its leading trivia (doc comment,
            // indentation) to whatever now starts the method.
            var index = method.AttributeLists.IndexOf(list);
            newMethod = method.WithAttributeLists(method.AttributeLists.RemoveAt(index));
            if (index == 0)
            {
                newMethod = newMethod.WithLeadingTrivia(list.GetLeadingTrivia());
            }
        }

        return document.WithSyntaxRoot(root.ReplaceNode(method, newMethod));
    }
}
