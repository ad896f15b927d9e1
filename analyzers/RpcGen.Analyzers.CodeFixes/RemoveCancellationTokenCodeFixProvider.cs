using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Analyzers.CodeFixes;

/// <summary>
/// RPC0020 and RPC0024: removes the reported <c>CancellationToken</c> parameter (a one-way method's, which
/// nothing can cancel, or a second one). Implementations of the interface keep theirs until they are
/// updated, as with any signature change.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveCancellationTokenCodeFixProvider)), Shared]
public sealed class RemoveCancellationTokenCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(
        DiagnosticIds.OneWayCancellation,
        DiagnosticIds.SeveralCancellationTokens);

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
            var parameter = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<ParameterSyntax>();
            if (parameter?.Parent is not ParameterListSyntax { Parent: MethodDeclarationSyntax })
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Remove the CancellationToken '{parameter.Identifier.ValueText}'",
                    ct => RemoveAsync(context.Document, parameter, ct),
                    nameof(RemoveCancellationTokenCodeFixProvider)),
                diagnostic);
        }
    }

    private static async Task<Document> RemoveAsync(Document document, ParameterSyntax parameter, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return root?.RemoveNode(parameter, SyntaxRemoveOptions.KeepNoTrivia) is { } updated ? document.WithSyntaxRoot(updated) : document;
    }
}
