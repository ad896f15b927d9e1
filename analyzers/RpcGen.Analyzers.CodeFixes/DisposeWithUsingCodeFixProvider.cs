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
/// RPC0025: <c>var x = …;</c> becomes <c>await using var x = …;</c> when the local's type is
/// <c>IAsyncDisposable</c> and the enclosing code is already <c>async</c>, else <c>using var x = …;</c> when it
/// is <c>IDisposable</c>. A capability whose interface is neither (its proxy is disposable, its static type is
/// not) gets no fix: the user releases it with <c>RpcReference.ReleaseAsync</c> or makes the contract inherit
/// <c>IAsyncDisposable</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(DisposeWithUsingCodeFixProvider)), Shared]
public sealed class DisposeWithUsingCodeFixProvider : CodeFixProvider
{
    private const string AwaitUsingKey = nameof(DisposeWithUsingCodeFixProvider) + ".AwaitUsing";
    private const string UsingKey = nameof(DisposeWithUsingCodeFixProvider) + ".Using";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.UndisposedResource);

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
            if (root.FindNode(diagnostic.Location.SourceSpan) is not VariableDeclaratorSyntax declarator ||
                declarator.Parent?.Parent is not LocalDeclarationStatementSyntax { Declaration.Variables.Count: 1, UsingKeyword.RawKind: 0 } statement ||
                model.GetDeclaredSymbol(declarator, context.CancellationToken) is not ILocalSymbol local)
            {
                continue;
            }

            var interfaces = local.Type.TypeKind == TypeKind.Interface ? local.Type.AllInterfaces.Add((INamedTypeSymbol)local.Type) : local.Type.AllInterfaces;
            var asyncDisposable = interfaces.Any(i => i.ToDisplayString() == "System.IAsyncDisposable");
            var disposable = interfaces.Any(i => i.ToDisplayString() == "System.IDisposable");
            if (asyncDisposable && AsyncContext.IsInAsyncCode(statement))
            {
                context.RegisterCodeFix(
                    CodeAction.Create($"Dispose '{local.Name}' with 'await using'", ct => AddUsingAsync(context.Document, statement, awaited: true, ct), AwaitUsingKey),
                    diagnostic);
            }
            else if (disposable)
            {
                context.RegisterCodeFix(
                    CodeAction.Create($"Dispose '{local.Name}' with 'using'", ct => AddUsingAsync(context.Document, statement, awaited: false, ct), UsingKey),
                    diagnostic);
            }
        }
    }

    private static async Task<Document> AddUsingAsync(Document document, LocalDeclarationStatementSyntax statement, bool awaited, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var leading = statement.GetLeadingTrivia();
        var changed = statement.WithoutLeadingTrivia()
            .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithTrailingTrivia(SyntaxFactory.Space));
        if (awaited)
        {
            changed = changed.WithAwaitKeyword(SyntaxFactory.Token(SyntaxKind.AwaitKeyword).WithTrailingTrivia(SyntaxFactory.Space));
        }

        return document.WithSyntaxRoot(root!.ReplaceNode(statement, changed.WithLeadingTrivia(leading)));
    }
}
