using RpcGen.Generators.Tests.Infrastructure;

namespace RpcGen.Generators.Tests;

/// <summary>Contracts written to trip generated code up (names, nullability contexts, sharing) still compile without a warning.</summary>
public class GeneratedCodeCompilationTests
{
    [Fact]
    public void NamesThatCollideWithGeneratedIdentifiers()
    {
        var result = GeneratorHarness.RunClean("""
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Names;

            public sealed class Result
            {
                public int Value { get; set; }
                public int Count { get; set; }
                public int Index { get; set; }
                public string Reader { get; set; } = "";
                public string Writer { get; set; } = "";
                public int Result2 { get; set; }
                public int Type { get; set; }
                public int Tag { get; set; }
                public int @class { get; set; }
                public int value { get; set; }
            }

            [RpcService]
            public interface INames
            {
                Task<Result> Service(Result value, int reader, int writer, int count, int index, int call, int payload);
                Task<int> Formatters(int request, int _channel, int _implementation, int @event, int a, int A);
                Task<int> Get(int getRequest);
                ValueTask Params(params int[] values);
                Task Defaults(int a = 1, string b = "x", CancellationToken cancellationToken = default);
                Task<Result?> NamesRpc(Result? result);
            }
            """);

        Assert.Equal(6, result.GeneratedSources.Length);
    }

    [Fact]
    public void TwoServicesShareDtosInOneNamespace()
    {
        GeneratorHarness.RunClean("""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Shared;

            public record Item(string Name, List<int> Values);

            [RpcService] public interface IFirst { Task<Item> GetAsync(List<Item> items); }
            [RpcService] public interface ISecond { Task<List<Item>> GetAsync(Item item); }
            """);
    }

    [Fact]
    public void NullableObliviousContract()
    {
        GeneratorHarness.RunClean("""
            #nullable disable
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Oblivious;

            public class Bag
            {
                public string Text { get; set; }
                public List<string> Items { get; set; }
                public Dictionary<string, Bag> Children { get; set; }
            }

            [RpcService]
            public interface IOblivious
            {
                Task<Bag> EchoAsync(Bag bag, string text);
                ValueTask<List<Bag>> ManyAsync(Bag[] bags);
            }
            """);
    }

    [Fact]
    public void DtosFromAReferencedAssembly()
    {
        var library = GeneratorHarness.CreateCompilation("""
            using System.Collections.Generic;
            namespace Library;
            public sealed class External { public string Name { get; set; } = ""; public List<Inner> Inners { get; set; } = new(); }
            public record Inner(int Value);
            public enum Mood { Good, Bad }
            """);
        using var image = new MemoryStream();
        Assert.True(library.Emit(image, cancellationToken: TestContext.Current.CancellationToken).Success);

        var compilation = GeneratorHarness.CreateCompilation("""
            using System.Threading.Tasks;
            using Library;
            using RpcGen;
            namespace App;
            [RpcService] public interface IUsesLibrary { Task<External> GetAsync(Mood mood, Inner inner); }
            """).AddReferences(Microsoft.CodeAnalysis.MetadataReference.CreateFromImage(image.ToArray()));
        var driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics, TestContext.Current.CancellationToken);

        Assert.Empty(diagnostics);
        Assert.Equal(6, driver.GetRunResult().GeneratedTrees.Length);
        GeneratorHarness.AssertCompilesCleanly(output);
    }

    [Fact]
    public void RequiredMembersAndStructsOfEveryKind()
    {
        GeneratorHarness.RunClean("""
            using System.Diagnostics.CodeAnalysis;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Kinds;

            public sealed class Required
            {
                public required string Name { get; init; }
                public required int Age { get; set; }
            }

            public sealed class SetsRequired
            {
                [SetsRequiredMembers]
                public SetsRequired(string name) => Name = name;
                public SetsRequired() { }
                public required string Name { get; init; }
            }

            public record struct PositionalStruct(int X, string? Label);
            public readonly record struct ReadOnlyStruct(long Ticks);
            public struct MutableStruct { public int A; public string? B { get; set; } }
            public record class WithBody(int A) { public int B { get; set; } public int A { get; init; } = A; }

            [RpcService]
            public interface IKinds
            {
                Task<Required> A(Required value, SetsRequired other);
                Task<PositionalStruct?> B(ReadOnlyStruct value, MutableStruct? other);
                Task<WithBody> C(WithBody value);
            }
            """);
    }

    [Fact]
    public void ServicesThatPassThemselvesAndEachOtherByReference()
    {
        var result = GeneratorHarness.RunClean("""
            using System.Threading.Tasks;
            using RpcGen;

            namespace Graph;

            [RpcService] public interface INode { Task<INode?> ParentAsync(); Task<IEdge[]> EdgesAsync(); }
            [RpcService] public interface IEdge { Task<INode> FromAsync(); Task<INode> ToAsync(); }
            """);

        Assert.Equal(12, result.GeneratedSources.Length);
    }

    [Fact]
    public void ContractMethodNamedDisposeAsyncBesideTheProxysOwn()
    {
        GeneratorHarness.RunClean("""
            using System.Threading.Tasks;
            using RpcGen;

            namespace Lifetimes;

            [RpcService] public interface ISession { Task DisposeAsync(); ValueTask<int> CountAsync(); }
            """);
    }

    [Fact]
    public void ServiceFromAReferencedAssemblyBuiltWithTheGenerator()
    {
        var library = BuildLibrary(runGenerator: true, """
            using System.Threading.Tasks;
            using RpcGen;
            namespace Listeners;
            [RpcService] public interface IListener { Task OnEventAsync(string name); }
            """);

        var compilation = GeneratorHarness.CreateCompilation("""
            using System.Threading.Tasks;
            using Listeners;
            using RpcGen;
            namespace App;
            [RpcService] public interface IEvents { Task<IListener> SubscribeAsync(IListener listener); }
            """).AddReferences(library);
        var driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics, TestContext.Current.CancellationToken);

        Assert.Empty(diagnostics);
        Assert.Equal(6, driver.GetRunResult().GeneratedTrees.Length);
        GeneratorHarness.AssertCompilesCleanly(output);
    }

    /// <summary>Compiles a library named <c>Listeners</c>, with or without the generator, and returns a reference to its image.</summary>
    internal static Microsoft.CodeAnalysis.MetadataReference BuildLibrary(bool runGenerator, string source)
    {
        Microsoft.CodeAnalysis.Compilation library = GeneratorHarness.CreateCompilation(source).WithAssemblyName("Listeners");
        if (runGenerator)
        {
            GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(library, out library, out _, TestContext.Current.CancellationToken);
        }

        using var image = new MemoryStream();
        var emitted = library.Emit(image, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(emitted.Success, string.Join(Environment.NewLine, emitted.Diagnostics));
        return Microsoft.CodeAnalysis.MetadataReference.CreateFromImage(image.ToArray());
    }
}
