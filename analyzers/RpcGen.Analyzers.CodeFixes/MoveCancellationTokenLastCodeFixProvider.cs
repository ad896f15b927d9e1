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
/// RPC0007: moves the method's only <c>CancellationToken</c> parameter to the end of the parameter list.
/// Not offered when the method has two tokens (which one to keep is the user's call) or a <c>params</c>
/// array (which C# requires to stay last).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MoveCancellationTokenLastCodeFixProvider)), Shared]
public sealed class MoveCancellationTokenLastCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.MisplacedCancellationToken);

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
            var parameter = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<ParameterSyntax>();
            if (parameter?.Parent is not ParameterListSyntax { Parent: MethodDeclarationSyntax method } list)
            {
                continue;
            }

            var tokens = list.Parameters.Count(p => IsCancellationToken(model, p, context.CancellationToken));
            var hasParams = list.Parameters.Any(p => p.Modifiers.Any(SyntaxKind.ParamsKeyword));
            if (tokens != 1 || hasParams)
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Move '{parameter.Identifier.ValueText}' to the end of the parameter list",
                    ct => MoveLastAsync(context.Document, method, parameter, ct),
                    nameof(MoveCancellationTokenLastCodeFixProvider)),
                diagnostic);
        }
    }

    private static bool IsCancellationToken(SemanticModel model, ParameterSyntax parameter, CancellationToken cancellationToken) =>
        parameter.Type is { } type &&
        model.GetTypeInfo(type, cancellationToken).Type?.ToDisplayString() == "System.Threading.CancellationToken";

    private static async Task<Document> MoveLastAsync(Document document, MethodDeclarationSyntax method, ParameterSyntax token, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var original = method.ParameterList.Parameters;
        var reordered = original.Where(p => p != token).ToList();

        // A token moved behind optional parameters must be optional too (CS1737).
        var moved = token;
        if (token.Default is null && reordered.Any(p => p.Default is not null))
        {
            moved = token.WithDefault(SyntaxFactory.EqualsValueClause(
                SyntaxFactory.Token(SyntaxKind.EqualsToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space),
                SyntaxFactory.LiteralExpression(SyntaxKind.DefaultLiteralExpression, SyntaxFactory.Token(SyntaxKind.DefaultKeyword))));
        }

        reordered.Add(moved);

        // Each slot keeps its own trivia (the first parameter's lack of indentation, a multi-line list's
        // line breaks), so only the parameters move, not the layout.
        var nodes = reordered.Select((p, i) => p.WithLeadingTrivia(original[i].GetLeadingTrivia()).WithTrailingTrivia(original[i].GetTrailingTrivia()));
        var parameters = SyntaxFactory.SeparatedList(nodes, original.GetSeparators());
        var newMethod = method.WithParameterList(method.ParameterList.WithParameters(parameters));
        return document.WithSyntaxRoot(root.ReplaceNode(method, newMethod));
    }
}
