using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Analyzers.CodeFixes;

/// <summary>
/// RPC0021: an interface a contract passes around that is not an <c>[RpcService]</c> (usually a callback)
/// gets the attribute, in the file that declares it, so it travels by reference.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddRpcServiceCodeFixProvider)), Shared]
public sealed class AddRpcServiceCodeFixProvider : CodeFixProvider
{
    private const string Key = nameof(AddRpcServiceCodeFixProvider);

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.InterfaceNotService);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var compilation = await context.Document.Project.GetCompilationAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (DeclaringDocument.Find(compilation, context.Document.Project.Solution, diagnostic, DiagnosticProperties.Interface) is not ({ } callback, { } reference, { } declaring))
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create($"Add [RpcService] to '{callback.Name}'", ct => AddAttributeAsync(declaring, reference, ct), Key),
                diagnostic);
        }
    }

    private static async Task<Solution> AddAttributeAsync(Document document, SyntaxReference reference, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || await reference.GetSyntaxAsync(cancellationToken).ConfigureAwait(false) is not InterfaceDeclarationSyntax declaration)
        {
            return document.Project.Solution;
        }

        var newRoot = root.ReplaceNode(declaration, Attributes.AddOnOwnLine(declaration, "RpcService"));
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        newRoot = Attributes.WithRpcGenInScope(newRoot, model, declaration.SpanStart, "RpcService");
        return document.WithSyntaxRoot(newRoot).Project.Solution;
    }
}
