using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Text;

namespace RpcGen.Analyzers.CodeFixes;

/// <summary>
/// RPC0027: appends the lines a service is missing to the project's <c>RpcContracts.Shipped.txt</c>. Lines
/// already there are left alone, including ones that differ (those are RPC0026 breaks, which only a person
/// may accept by editing the file). Fix All writes every project's file once.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UpdateContractBaselineCodeFixProvider)), Shared]
public sealed class UpdateContractBaselineCodeFixProvider : CodeFixProvider
{
    private const string Title = "Add to RpcContracts.Shipped.txt";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.NotInBaseline);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => new BaselineFixAll();

    /// <inheritdoc/>
    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            if (BaselineOf(context.Document.Project) is not null && diagnostic.Properties.ContainsKey(DiagnosticProperties.BaselineLines))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(Title, ct => AppendAsync(context.Document.Project.Solution, [(context.Document.Project, diagnostic)], ct), Title),
                    diagnostic);
            }
        }

        return Task.CompletedTask;
    }

    private static TextDocument? BaselineOf(Project project) =>
        project.AdditionalDocuments.FirstOrDefault(d => d.Name == ContractBaseline.FileName);

    /// <summary>Appends, per project, the lines of <paramref name="fixes"/> that its baseline does not have.</summary>
    private static async Task<Solution> AppendAsync(Solution solution, IEnumerable<(Project Project, Diagnostic Diagnostic)> fixes, CancellationToken cancellationToken)
    {
        foreach (var group in fixes.GroupBy(f => f.Project.Id))
        {
            if (BaselineOf(solution.GetProject(group.Key)!) is not { } file)
            {
                continue;
            }

            var text = await file.GetTextAsync(cancellationToken).ConfigureAwait(false);
            var known = ContractBaseline.Parse(text);
            var added = new HashSet<string>(System.StringComparer.Ordinal);
            var lines = group
                .SelectMany(f => (f.Diagnostic.Properties[DiagnosticProperties.BaselineLines] ?? "").Split('\n'))
                .Where(line => BaselineEntry.KeyOf(line) is { } key && !known.TryGet(key, out _) && added.Add(key))
                .ToList();
            if (lines.Count == 0)
            {
                continue;
            }

            var existing = text.ToString();
            var newLine = existing.Contains("\r\n") ? "\r\n" : "\n";
            var prefix = existing.Length == 0 || existing.EndsWith("\n", System.StringComparison.Ordinal) ? "" : newLine;
            var appended = prefix + string.Join(newLine, lines) + newLine;
            solution = solution.WithAdditionalDocumentText(file.Id, text.WithChanges(new TextChange(new TextSpan(text.Length, 0), appended)));
        }

        return solution;
    }

    /// <summary>Gathers every RPC0027 in the scope and writes each project's baseline once (a batch of per-diagnostic edits would conflict at the end of the file).</summary>
    private sealed class BaselineFixAll : FixAllProvider
    {
        public override IEnumerable<FixAllScope> GetSupportedFixAllScopes() => [FixAllScope.Document, FixAllScope.Project, FixAllScope.Solution];

        public override async Task<CodeAction?> GetFixAsync(FixAllContext fixAllContext)
        {
            var fixes = new List<(Project, Diagnostic)>();
            switch (fixAllContext.Scope)
            {
                case FixAllScope.Document when fixAllContext.Document is { } document:
                    fixes.AddRange((await fixAllContext.GetDocumentDiagnosticsAsync(document).ConfigureAwait(false)).Select(d => (document.Project, d)));
                    break;
                case FixAllScope.Project:
                    fixes.AddRange((await fixAllContext.GetAllDiagnosticsAsync(fixAllContext.Project).ConfigureAwait(false)).Select(d => (fixAllContext.Project, d)));
                    break;
                case FixAllScope.Solution:
                    foreach (var project in fixAllContext.Solution.Projects)
                    {
                        fixes.AddRange((await fixAllContext.GetAllDiagnosticsAsync(project).ConfigureAwait(false)).Select(d => (project, d)));
                    }

                    break;
            }

            var relevant = fixes.Where(f => f.Item2.Id == DiagnosticIds.NotInBaseline && f.Item2.Properties.ContainsKey(DiagnosticProperties.BaselineLines)).ToList();
            return relevant.Count == 0
                ? null
                : CodeAction.Create(Title, ct => AppendAsync(fixAllContext.Solution, relevant, ct), Title);
        }
    }
}
