using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RpcGen.Generators.Model;
using RpcGen.Generators.Tests.Infrastructure;

namespace RpcGen.Generators.Tests;

/// <summary>The pipeline's specs are plain equatable data, so the incremental generator can cache them.</summary>
public class CacheabilityTests
{
    private const string Dtos = """
        using System.Collections.Generic;
        using RpcGen;

        namespace Acme;

        public sealed class Extra
        {
            public Dictionary<string, int?> Counts { get; set; } = new();
        }
        """;

    private static ServiceSpec[] SpecsOf(GeneratorDriver driver) =>
        [.. driver.GetRunResult().Results.Single().TrackedSteps[RpcGenerator.TrackingNames.ServiceSpecs]
            .SelectMany(step => step.Outputs)
            .Select(output => (ServiceSpec)output.Value)];

    private static GeneratorDriver RunTracked(Compilation compilation) =>
        GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation, TestContext.Current.CancellationToken);

    [Fact]
    public void EqualInputsGiveEqualSpecs()
    {
        var first = SpecsOf(RunTracked(GeneratorHarness.CreateCompilation(TestSources.Greeter, Dtos)));
        var second = SpecsOf(RunTracked(GeneratorHarness.CreateCompilation(TestSources.Greeter, Dtos)));

        var spec = Assert.Single(first);
        Assert.Equal(spec, Assert.Single(second));
        Assert.Equal(spec.GetHashCode(), second[0].GetHashCode());
        Assert.NotSame(spec, second[0]);
    }

    [Fact]
    public void SpecsHoldNoCompilationObjects()
    {
        var specs = SpecsOf(RunTracked(GeneratorHarness.CreateCompilation(TestSources.Greeter, TestSources.Drawing)));

        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var spec in specs)
        {
            AssertNoCompilationObjects(spec, "spec", visited);
        }

        // The walk went through methods, parameters, types and members.
        Assert.Contains(visited, o => o is MemberSpec);
        Assert.Contains(visited, o => o is ParameterSpec);
        Assert.Contains(visited, o => o is KnownTypeSpec);
    }

    [Fact]
    public void RejectedSpecHoldsOnlyAnEquatableLocation()
    {
        var specs = SpecsOf(RunTracked(GeneratorHarness.CreateCompilation("""
            using System.Threading.Tasks;
            using RpcGen;

            [RpcService]
            public interface IBroken
            {
                int Get();
            }
            """)));

        var spec = Assert.Single(specs);
        Assert.NotNull(spec.Rejection);
        Assert.NotNull(spec.Location);
        AssertNoCompilationObjects(spec, "spec", new HashSet<object>(ReferenceEqualityComparer.Instance));
    }

    [Fact]
    public void TriviaOnlyEditLeavesEveryStepCached()
    {
        var compilation = GeneratorHarness.CreateCompilation(TestSources.Greeter, Dtos);
        var driver = RunTracked(compilation);

        var tree = compilation.SyntaxTrees.First();
        var edited = tree.GetText().ToString()
            .Replace("namespace Acme;", "// A comment added above.\n\nnamespace Acme;")
            .Replace("[OneWay] void Notify", "\n    // Sends a note.\n    [OneWay]   void   Notify");
        var editedCompilation = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(edited, GeneratorHarness.ParseOptions, tree.FilePath));
        driver = driver.RunGenerators(editedCompilation, TestContext.Current.CancellationToken);

        var result = driver.GetRunResult().Results.Single();
        var reasons = result.TrackedSteps[RpcGenerator.TrackingNames.ServiceSpecs].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"ServiceSpecs was {reason}"));
        var outputs = result.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void EditInAnotherFileLeavesTheServiceCached()
    {
        var compilation = GeneratorHarness.CreateCompilation(TestSources.Greeter, Dtos);
        var driver = RunTracked(compilation);

        var other = compilation.SyntaxTrees.Last();
        var edited = other.GetText().ToString().Replace("public sealed class Extra", "public sealed class Extra2");
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(other, CSharpSyntaxTree.ParseText(edited, GeneratorHarness.ParseOptions, other.FilePath)), TestContext.Current.CancellationToken);

        // The transform runs again (the compilation changed, so symbols may have), finds an equal
        // spec, and nothing downstream is regenerated.
        var result = driver.GetRunResult().Results.Single();
        var specs = result.TrackedSteps[RpcGenerator.TrackingNames.ServiceSpecs].SelectMany(s => s.Outputs);
        Assert.All(specs, output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
        var sources = result.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(sources);
        Assert.All(sources, output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void ContractChangeProducesANewSpec()
    {
        var compilation = GeneratorHarness.CreateCompilation(TestSources.Greeter);
        var driver = RunTracked(compilation);
        var before = Assert.Single(SpecsOf(driver));

        var tree = compilation.SyntaxTrees.Single();
        var edited = tree.GetText().ToString().Replace("[RpcMethod(7)]", "[RpcMethod(8)]");
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(edited, GeneratorHarness.ParseOptions, tree.FilePath)), TestContext.Current.CancellationToken);

        var output = driver.GetRunResult().Results.Single().TrackedSteps[RpcGenerator.TrackingNames.ServiceSpecs].SelectMany(s => s.Outputs).Single();
        Assert.Equal(IncrementalStepRunReason.Modified, output.Reason);
        Assert.NotEqual(before, (ServiceSpec)output.Value);
    }

    private static readonly Type[] Forbidden =
        [typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel), typeof(Location), typeof(SyntaxToken)];

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Walks the generator's own spec records in a test process that is never trimmed.")]
    private static void AssertNoCompilationObjects(object? value, string path, HashSet<object> visited)
    {
        if (value is null or string || value.GetType().IsPrimitive || value.GetType().IsEnum)
        {
            return;
        }

        var type = value.GetType();
        Assert.False(Forbidden.Any(f => f.IsAssignableFrom(type)), $"{path} holds a {type.Name}");
        if (!type.IsValueType && !visited.Add(value))
        {
            return;
        }

        if (value is IEnumerable items)
        {
            var i = 0;
            foreach (var item in items)
            {
                AssertNoCompilationObjects(item, $"{path}[{i++}]", visited);
            }

            return;
        }

        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            Assert.False(Forbidden.Any(f => f.IsAssignableFrom(field.FieldType)) || field.FieldType == typeof(object), $"{path}.{field.Name} is declared as {field.FieldType.Name}");
            AssertNoCompilationObjects(field.GetValue(value), $"{path}.{field.Name}", visited);
        }
    }
}
