using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Text;
using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class UpdateContractBaselineCodeFixTests
{
    private static readonly UpdateContractBaselineCodeFixProvider Provider = new();

    private const string Contracts = """
        namespace Shop;

        [RpcService(1)]
        public interface IInventory
        {
            [RpcMethod(0)] Task<Item> GetAsync(int id);
            [RpcMethod(1)] Task<int> CountAsync();
        }

        [RpcService(2)]
        public interface IOrders
        {
            [RpcMethod(0)] Task PlaceAsync(Item item);
        }

        public sealed record Item(string Name);
        """;

    [Fact]
    public async Task The_fix_appends_the_missing_lines_and_keeps_the_file_as_it_was()
    {
        var shipped = "# shipped 1.0\nservice Shop.IInventory 0x0000000000000001\nmethod Shop.IInventory.GetAsync @0 (int) -> Shop.Item\nmember Shop.Item.Name 0 string";
        var (workspace, project) = Project(Contracts.Replace("[RpcService(2)]\npublic interface IOrders\n{\n    [RpcMethod(0)] Task PlaceAsync(Item item);\n}\n", ""), shipped);
        using (workspace)
        {
            var diagnostic = Assert.Single(await NotInBaselineAsync(project));
            var actions = new List<CodeAction>();
            await Provider.RegisterCodeFixesAsync(new CodeFixContext(project.Documents.Single(d => d.Name == "Test.cs"), diagnostic, (a, _) => actions.Add(a), TestContext.Current.CancellationToken));
            var action = Assert.Single(actions);
            Assert.Equal("Add to RpcContracts.Shipped.txt", action.Title);

            var solution = await ApplyAsync(action);
            Assert.Equal(shipped + "\nmethod Shop.IInventory.CountAsync @1 () -> int\n", await BaselineTextAsync(solution, project.Id));
            Assert.Empty(await NotInBaselineAsync(solution.GetProject(project.Id)!));
        }
    }

    [Fact]
    public async Task No_fix_without_a_baseline_file_and_no_diagnostic_either()
    {
        var (workspace, project) = Project(Contracts, baseline: null);
        using (workspace)
        {
            Assert.Empty(await NotInBaselineAsync(project));
        }
    }

    [Fact]
    public async Task Fix_All_writes_every_service_once_with_shared_DTO_lines_once()
    {
        var (workspace, project) = Project(Contracts, "");
        using (workspace)
        {
            var diagnostics = await NotInBaselineAsync(project);
            Assert.Equal(2, diagnostics.Count);
            var fixAll = Provider.GetFixAllProvider();
            Assert.Contains(FixAllScope.Project, fixAll.GetSupportedFixAllScopes());
            var context = new FixAllContext(project.Documents.Single(d => d.Name == "Test.cs"), Provider, FixAllScope.Project, "Add to RpcContracts.Shipped.txt", [DiagnosticIds.NotInBaseline], new CodeFixHarness.DocumentDiagnostics(diagnostics), TestContext.Current.CancellationToken);
            var solution = await ApplyAsync((await fixAll.GetFixAsync(context))!);

            Assert.Equal(
                """
                service Shop.IInventory 0x0000000000000001
                method Shop.IInventory.GetAsync @0 (int) -> Shop.Item
                method Shop.IInventory.CountAsync @1 () -> int
                member Shop.Item.Name 0 string
                service Shop.IOrders 0x0000000000000002
                method Shop.IOrders.PlaceAsync @0 (Shop.Item) -> void

                """.ReplaceLineEndings("\n"),
                await BaselineTextAsync(solution, project.Id));
            Assert.Empty(await NotInBaselineAsync(solution.GetProject(project.Id)!));
        }
    }

    private static (AdhocWorkspace Workspace, Project Project) Project(string source, string? baseline)
    {
        var workspace = new AdhocWorkspace();
        var project = workspace.AddProject(ProjectInfo.Create(
            ProjectId.CreateNewId(), VersionStamp.Default, "TestContracts", "TestContracts", LanguageNames.CSharp,
            compilationOptions: AnalyzerHarness.CompilationOptions, parseOptions: AnalyzerHarness.ParseOptions, metadataReferences: ReferenceAssemblies.All));
        project = workspace.AddDocument(project.Id, "GlobalUsings.cs", SourceText.From(AnalyzerHarness.GlobalUsings)).Project;
        project = workspace.AddDocument(project.Id, "Test.cs", SourceText.From(source)).Project;
        if (baseline is not null)
        {
            var solution = project.Solution.AddAdditionalDocument(DocumentId.CreateNewId(project.Id), "RpcContracts.Shipped.txt", SourceText.From(baseline), filePath: "/project/RpcContracts.Shipped.txt");
            Assert.True(workspace.TryApplyChanges(solution));
            project = workspace.CurrentSolution.GetProject(project.Id)!;
        }

        return (workspace, project);
    }

    private static async Task<List<Diagnostic>> NotInBaselineAsync(Project project)
    {
        var compilation = (await project.GetCompilationAsync(TestContext.Current.CancellationToken))!;
        return (await AnalyzerHarness.AnalyzeAsync(compilation, project.AnalyzerOptions.AdditionalFiles)).Where(d => d.Id == DiagnosticIds.NotInBaseline).ToList();
    }

    private static async Task<Solution> ApplyAsync(CodeAction action)
    {
        var operations = await action.GetOperationsAsync(TestContext.Current.CancellationToken);
        return Assert.Single(operations.OfType<ApplyChangesOperation>()).ChangedSolution;
    }

    private static async Task<string> BaselineTextAsync(Solution solution, ProjectId project) =>
        (await solution.GetProject(project)!.AdditionalDocuments.Single().GetTextAsync(TestContext.Current.CancellationToken)).ToString();
}
