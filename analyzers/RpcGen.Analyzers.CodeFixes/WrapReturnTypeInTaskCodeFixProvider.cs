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
/// RPC0005: makes a synchronous service method asynchronous by wrapping its return type in a task
/// (<c>int Add(…)</c> → <c>Task&lt;int&gt; Add(…)</c>, <c>void Ping()</c> → <c>Task Ping()</c>).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(WrapReturnTypeInTaskCodeFixProvider)), Shared]
public sealed class WrapReturnTypeInTaskCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.UnsupportedReturnType);

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
            var method = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<MethodDeclarationSyntax>();

            // A one-way method cannot return a task of a value either (RPC0006); there is no single right fix.
            if (method is null || !method.ReturnType.Span.Contains(diagnostic.Location.SourceSpan) || await IsOneWayAsync(context.Document, method, context.CancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            var title = method.ReturnType is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword }
                ? "Return Task"
                : $"Return Task<{method.ReturnType}>";
            context.RegisterCodeFix(
                CodeAction.Create(title, ct => WrapAsync(context.Document, method, ct), equivalenceKey: nameof(WrapReturnTypeInTaskCodeFixProvider)),
                diagnostic);
        }
    }

    private static async Task<bool> IsOneWayAsync(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        return model?.GetDeclaredSymbol(method, cancellationToken) is { } symbol &&
            symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "RpcGen.OneWayAttribute");
    }

    private static async Task<Document> WrapAsync(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        var root = (CompilationUnitSyntax?)await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return document;
        }

        var taskName = TaskNames.Resolve(model, method.ReturnType.SpanStart, out var needsUsing);
        var oldType = method.ReturnType;
        TypeSyntax newType = oldType is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword }
            ? TaskNames.Name(taskName, "Task")
            : TaskNames.Generic(taskName, "Task", oldType.WithoutTrivia());
        newType = newType.WithTriviaFrom(oldType);

        var newRoot = root.ReplaceNode(oldType, newType);
        if (needsUsing)
        {
            newRoot = Usings.Add(newRoot, "System.Threading.Tasks");
        }

        return document.WithSyntaxRoot(newRoot);
    }
}
