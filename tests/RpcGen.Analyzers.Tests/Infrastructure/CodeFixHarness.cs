using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Text;

namespace RpcGen.Analyzers.Tests;

/// <summary>
/// Runs a code fix the way an editor does: analyzers report on a document of an ad-hoc workspace, the
/// provider registers its actions for the one diagnostic of the given id, and the chosen action's
/// changed document is compared with the expected text; the fixed source must then be free of that id.
/// </summary>
internal static class CodeFixHarness
{
    /// <param name="firstOfSeveral">Fix the first of the id's diagnostics, for an id always reported in pairs
    /// (RPC0009 on each of two colliding methods) whose fix resolves them all.</param>
    public static async Task VerifyAsync(CodeFixProvider provider, string diagnosticId, string before, string after, string expectedTitle, bool withGlobalUsings = true, bool firstOfSeveral = false)
    {
        using var workspace = new AdhocWorkspace();
        var document = AddDocument(workspace, before, withGlobalUsings);

        var diagnostics = await DiagnosticsAsync(document.Project, diagnosticId);
        var diagnostic = firstOfSeveral ? diagnostics.First() : Assert.Single(diagnostics);
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), TestContext.Current.CancellationToken);
        await provider.RegisterCodeFixesAsync(context);

        // A provider may offer several fixes for one diagnostic; the one under test is chosen by its title.
        var chosen = actions.Count == 1 ? actions[0] : Assert.Single(actions, a => a.Title == expectedTitle);
        Assert.Equal(expectedTitle, chosen.Title);
        Assert.Contains(diagnosticId, provider.FixableDiagnosticIds);

        var operations = await chosen.GetOperationsAsync(TestContext.Current.CancellationToken);
        var solution = Assert.Single(operations.OfType<ApplyChangesOperation>()).ChangedSolution;
        var fixedDocument = solution.GetDocument(document.Id)!;
        var text = (await fixedDocument.GetTextAsync(TestContext.Current.CancellationToken)).ToString();
        Assert.Equal(after.ReplaceLineEndings("\n"), text.ReplaceLineEndings("\n"));

        Assert.Empty(await DiagnosticsAsync(fixedDocument.Project, diagnosticId));
        var compilation = (await fixedDocument.Project.GetCompilationAsync(TestContext.Current.CancellationToken))!;
        Assert.Empty(compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));
    }

    /// <summary>
    /// Applies the fix titled <paramref name="title"/> to every diagnostic of <paramref name="diagnosticId"/> in
    /// the document at once, through the provider's Fix All provider (what the IDE's "Fix all occurrences" and
    /// <c>dotnet format analyzers</c> use), and compares the result with <paramref name="after"/>.
    /// </summary>
    public static async Task VerifyFixAllAsync(CodeFixProvider provider, string diagnosticId, string before, string after, string title)
    {
        using var workspace = new AdhocWorkspace();
        var document = AddDocument(workspace, before, withGlobalUsings: true);
        var diagnostics = (await DiagnosticsAsync(document.Project, diagnosticId)).ToList();
        Assert.True(diagnostics.Count > 1, "Fix All needs more than one diagnostic to prove anything.");

        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostics[0], (action, _) => actions.Add(action), TestContext.Current.CancellationToken));
        var key = Assert.Single(actions, a => a.Title == title).EquivalenceKey;
        var fixAll = provider.GetFixAllProvider();
        Assert.NotNull(fixAll);
        Assert.Contains(FixAllScope.Document, fixAll.GetSupportedFixAllScopes());

        var context = new FixAllContext(document, provider, FixAllScope.Document, key, [diagnosticId], new DocumentDiagnostics(diagnostics), TestContext.Current.CancellationToken);
        var action = Assert.IsAssignableFrom<CodeAction>(await fixAll.GetFixAsync(context));
        var operations = await action.GetOperationsAsync(TestContext.Current.CancellationToken);
        var solution = Assert.Single(operations.OfType<ApplyChangesOperation>()).ChangedSolution;
        var text = (await solution.GetDocument(document.Id)!.GetTextAsync(TestContext.Current.CancellationToken)).ToString();
        Assert.Equal(after.ReplaceLineEndings("\n"), text.ReplaceLineEndings("\n"));
        Assert.Empty(await DiagnosticsAsync(solution.GetDocument(document.Id)!.Project, diagnosticId));
    }

    /// <summary>The diagnostics of one document, as Fix All asks for them.</summary>
    internal sealed class DocumentDiagnostics(IReadOnlyList<Diagnostic> diagnostics) : FixAllContext.DiagnosticProvider
    {
        public override Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken) =>
            Task.FromResult<IEnumerable<Diagnostic>>(diagnostics);

        public override Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            Task.FromResult<IEnumerable<Diagnostic>>([]);

        public override Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            Task.FromResult<IEnumerable<Diagnostic>>(diagnostics);
    }

    /// <summary>Asserts that the provider offers nothing for the one diagnostic of <paramref name="diagnosticId"/> in <paramref name="source"/>.</summary>
    public static async Task VerifyNoFixAsync(CodeFixProvider provider, string diagnosticId, string source)
    {
        using var workspace = new AdhocWorkspace();
        var document = AddDocument(workspace, source, withGlobalUsings: true);

        var diagnostic = Assert.Single(await DiagnosticsAsync(document.Project, diagnosticId));
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), TestContext.Current.CancellationToken));
        Assert.Empty(actions);
    }

    private static Document AddDocument(AdhocWorkspace workspace, string source, bool withGlobalUsings)
    {
        var project = workspace.AddProject(ProjectInfo.Create(
            ProjectId.CreateNewId(),
            VersionStamp.Default,
            "TestContracts",
            "TestContracts",
            LanguageNames.CSharp,
            compilationOptions: AnalyzerHarness.CompilationOptions,
            parseOptions: AnalyzerHarness.ParseOptions,
            metadataReferences: ReferenceAssemblies.All));
        if (withGlobalUsings)
        {
            project = workspace.AddDocument(project.Id, "GlobalUsings.cs", SourceText.From(AnalyzerHarness.GlobalUsings)).Project;
        }

        return workspace.AddDocument(project.Id, "Test.cs", SourceText.From(source));
    }

    private static async Task<IEnumerable<Diagnostic>> DiagnosticsAsync(Project project, string diagnosticId)
    {
        var compilation = (await project.GetCompilationAsync(TestContext.Current.CancellationToken))!;
        var diagnostics = await AnalyzerHarness.AnalyzeAsync(compilation, project.AnalyzerOptions.AdditionalFiles);
        return diagnostics.Where(d => d.Id == diagnosticId);
    }
}
