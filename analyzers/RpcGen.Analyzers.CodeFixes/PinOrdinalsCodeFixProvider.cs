using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
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
/// RPC0009 and RPC0030: pins an ordinal on every method the interface declares. A method that already pins a free
/// ordinal keeps it; the others (unpinned, or repeating an ordinal an earlier method pins) get the lowest
/// free ones, in declaration order: for RPC0030 exactly the Cap'n Proto ordinals they had. Pinning changes the wire id of each method that had a derived one, so
/// peers must be rebuilt from the same contract. Fix All pins each interface once, however many
/// diagnostics it has.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(PinOrdinalsCodeFixProvider)), Shared]
public sealed class PinOrdinalsCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.DuplicateMethodId, DiagnosticIds.CapnpUnpinnedAmongPinned);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(async (context, document, diagnostics) =>
    {
        var root = await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return document;
        }

        var services = diagnostics.Select(d => ServiceAt(root, d)).OfType<InterfaceDeclarationSyntax>().Distinct().ToList();
        var updated = root.ReplaceNodes(services, (original, _) => Pin(model, original, context.CancellationToken));
        return document.WithSyntaxRoot(updated);
    });

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
            if (ServiceAt(root, diagnostic) is not { } service)
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Pin an ordinal on every method of '{service.Identifier.ValueText}'",
                    async ct =>
                    {
                        var model = await context.Document.GetSemanticModelAsync(ct).ConfigureAwait(false);
                        return model is null ? context.Document : context.Document.WithSyntaxRoot(root.ReplaceNode(service, Pin(model, service, ct)));
                    },
                    nameof(PinOrdinalsCodeFixProvider)),
                diagnostic);
        }
    }

    /// <summary>The interface a diagnostic is in, when it is on one of its own methods.</summary>
    private static InterfaceDeclarationSyntax? ServiceAt(SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<MethodDeclarationSyntax>()?.Parent as InterfaceDeclarationSyntax;

    private static InterfaceDeclarationSyntax Pin(SemanticModel model, InterfaceDeclarationSyntax service, CancellationToken cancellationToken)
    {
        var methods = service.Members.OfType<MethodDeclarationSyntax>().Where(m => m.Body is null && m.ExpressionBody is null).ToList();
        var pinned = methods.ToDictionary(m => m, m => PinnedOrdinal(model, m, cancellationToken));
        var taken = new HashSet<int>();
        var keep = new HashSet<MethodDeclarationSyntax>();
        foreach (var method in methods)
        {
            if (pinned[method] is { } ordinal && taken.Add(ordinal))
            {
                keep.Add(method);
            }
        }

        var next = 0;
        return service.ReplaceNodes(methods, (original, current) =>
        {
            if (keep.Contains(original))
            {
                return current;
            }

            while (taken.Contains(next))
            {
                next++;
            }

            taken.Add(next);
            var literal = SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(next));
            if (pinned[original] is not null && Ordinal(current) is { } argument)
            {
                return current.ReplaceNode(argument.Expression, literal.WithTriviaFrom(argument.Expression));
            }

            var arguments = SyntaxFactory.AttributeArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.AttributeArgument(literal)));
            return Attributes.AddOnOwnLine(current, "RpcMethod", arguments);
        });
    }

    private static int? PinnedOrdinal(SemanticModel model, MethodDeclarationSyntax method, CancellationToken cancellationToken) =>
        Ordinal(method) is { } argument && model.GetConstantValue(argument.Expression, cancellationToken) is { HasValue: true, Value: int value }
            ? value
            : null;

    /// <summary>The ordinal argument of the method's <c>[RpcMethod(n)]</c>, if it has one.</summary>
    private static AttributeArgumentSyntax? Ordinal(MethodDeclarationSyntax method) =>
        method.AttributeLists.SelectMany(l => l.Attributes)
            .FirstOrDefault(a => a.Name.ToString() is "RpcMethod" or "RpcMethodAttribute" or "RpcGen.RpcMethod" or "RpcGen.RpcMethodAttribute")
            ?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals is null);
}
