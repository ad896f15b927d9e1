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
/// RPC0019: <c>call.Result</c>, <c>call.Wait()</c> and <c>call.GetAwaiter().GetResult()</c> become
/// <c>await call</c>, when the enclosing method, local function or lambda is already <c>async</c> (making
/// it async would change its signature for its callers, which is the user's decision).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AwaitRemoteCallCodeFixProvider)), Shared]
public sealed class AwaitRemoteCallCodeFixProvider : CodeFixProvider
{
    private const string Key = nameof(AwaitRemoteCallCodeFixProvider);

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.BlockingCall);

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
            if (node is ArgumentSyntax argument)
            {
                node = argument.Expression;
            }

            if (node is ExpressionSyntax blocking && AwaitedTask(blocking) is { } task && AsyncContext.IsInAsyncCode(blocking))
            {
                context.RegisterCodeFix(
                    CodeAction.Create("Await the remote call", ct => AwaitAsync(context.Document, blocking, task, ct), Key),
                    diagnostic);
            }
        }
    }

    /// <summary>The task expression of <c>task.Result</c>, <c>task.Wait()</c> or <c>task.GetAwaiter().GetResult()</c>.</summary>
    private static ExpressionSyntax? AwaitedTask(ExpressionSyntax blocking) => blocking switch
    {
        MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Result" } result => result.Expression,
        InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Wait" } wait } => wait.Expression,
        InvocationExpressionSyntax
        {
            Expression: MemberAccessExpressionSyntax
            {
                Name.Identifier.ValueText: "GetResult",
                Expression: InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "GetAwaiter" } awaiter },
            },
        } => awaiter.Expression,
        _ => null,
    };

    private static async Task<Document> AwaitAsync(Document document, ExpressionSyntax blocking, ExpressionSyntax task, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        ExpressionSyntax awaited = SyntaxFactory.AwaitExpression(task.WithoutTrivia());

        // 'await x' binds looser than member access, indexing and calls: parenthesize it where one follows.
        if (blocking.Parent is MemberAccessExpressionSyntax or ElementAccessExpressionSyntax or InvocationExpressionSyntax or ConditionalAccessExpressionSyntax or PostfixUnaryExpressionSyntax)
        {
            awaited = SyntaxFactory.ParenthesizedExpression(awaited);
        }

        return document.WithSyntaxRoot(root!.ReplaceNode(blocking, awaited.WithTriviaFrom(blocking)));
    }
}
