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
/// RPC0023: gives a DTO without a usable constructor a public parameterless one, in the file that declares
/// it: the existing parameterless constructor becomes public, or an empty one is added before the first
/// constructor. Generated code then sets every member after construction, so members only the other
/// constructors could set become RPC0017, whose fix makes them <c>init</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ParameterlessConstructorCodeFixProvider)), Shared]
public sealed class ParameterlessConstructorCodeFixProvider : CodeFixProvider
{
    private const string Key = nameof(ParameterlessConstructorCodeFixProvider);

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.NoUsableConstructor);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var compilation = await context.Document.Project.GetCompilationAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (DeclaringDocument.Find(compilation, context.Document.Project.Solution, diagnostic, DiagnosticProperties.Dto) is not ({ } dto, { } reference, { } declaring))
            {
                continue;
            }

            var hidden = dto.InstanceConstructors.Any(c => c.Parameters.Length == 0 && !c.IsImplicitlyDeclared);
            var title = hidden ? $"Make the parameterless constructor of '{dto.Name}' public" : $"Add a public parameterless constructor to '{dto.Name}'";
            context.RegisterCodeFix(CodeAction.Create(title, ct => FixAsync(declaring, reference, ct), Key), diagnostic);
        }
    }

    private static async Task<Solution> FixAsync(Document document, SyntaxReference reference, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || await reference.GetSyntaxAsync(cancellationToken).ConfigureAwait(false) is not TypeDeclarationSyntax declaration)
        {
            return document.Project.Solution;
        }

        var constructors = declaration.Members.OfType<ConstructorDeclarationSyntax>().Where(c => !c.Modifiers.Any(SyntaxKind.StaticKeyword)).ToList();
        if (constructors.FirstOrDefault(c => c.ParameterList.Parameters.Count == 0) is { } parameterless)
        {
            var others = parameterless.Modifiers
                .Where(m => !m.IsKind(SyntaxKind.PrivateKeyword) && !m.IsKind(SyntaxKind.ProtectedKeyword) && !m.IsKind(SyntaxKind.InternalKeyword))
                .Select(m => m.WithoutTrivia().WithTrailingTrivia(SyntaxFactory.Space));
            var modifiers = SyntaxFactory.TokenList(new[] { SyntaxFactory.Token(SyntaxKind.PublicKeyword).WithTrailingTrivia(SyntaxFactory.Space) }.Concat(others));
            var made = parameterless.WithoutLeadingTrivia().WithModifiers(modifiers).WithLeadingTrivia(parameterless.GetLeadingTrivia());
            return document.WithSyntaxRoot(root.ReplaceNode(parameterless, made)).Project.Solution;
        }

        // A blank line between it and the constructor it precedes, as between any two members.
        var added = SyntaxFactory.ParseMemberDeclaration($"public {declaration.Identifier.ValueText}()\n{{\n}}")!
            .WithTrailingTrivia(SyntaxFactory.EndOfLine("\n"), SyntaxFactory.EndOfLine("\n"))
            .WithAdditionalAnnotations(Microsoft.CodeAnalysis.Formatting.Formatter.Annotation);
        var anchor = constructors.FirstOrDefault();
        var fixedDeclaration = anchor is null
            ? declaration.WithMembers(declaration.Members.Insert(0, added))
            : declaration.InsertNodesBefore(anchor, [added]);
        return document.WithSyntaxRoot(root.ReplaceNode(declaration, fixedDeclaration)).Project.Solution;
    }
}
