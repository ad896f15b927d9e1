using Microsoft.CodeAnalysis;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;
using RpcGen.Generators.Tests.Infrastructure;

namespace RpcGen.Generators.Tests;

/// <summary>The parser on its own: symbols in, specs out.</summary>
public class ParserTests
{
    private static (ServiceSpec Spec, Compilation Compilation) Parse(string serviceMetadataName, params string[] sources)
    {
        var compilation = GeneratorHarness.CreateCompilation(sources);
        var symbol = compilation.GetTypeByMetadataName(serviceMetadataName) ?? throw new InvalidOperationException($"{serviceMetadataName} not found");
        return (RpcGenerator.Parser.Parse(symbol, declaration: null, TestContext.Current.CancellationToken), compilation);
    }

    private static TypeSpec TypeOf(ServiceSpec spec, string key) => spec.Types.Single(t => t.Key == key);

    [Fact]
    public void FnvMatchesReferenceVectors()
    {
        // Published FNV-1a test vectors.
        Assert.Equal(0x811C9DC5u, RpcContractRules.Fnv1a32(""));
        Assert.Equal(0xE40C292Cu, RpcContractRules.Fnv1a32("a"));
        Assert.Equal(0xBF9CF968u, RpcContractRules.Fnv1a32("foobar"));
        Assert.Equal(0xCBF29CE484222325UL, RpcContractRules.Fnv1a64(""));
        Assert.Equal(0xAF63DC4C8601EC8CUL, RpcContractRules.Fnv1a64("a"));
        Assert.Equal(0x85944171F73967E8UL, RpcContractRules.Fnv1a64("foobar"));
    }

    [Fact]
    public void IdsComeFromTheContractRules()
    {
        var (spec, compilation) = Parse("Acme.IGreeter", TestSources.Greeter);
        var symbol = compilation.GetTypeByMetadataName("Acme.IGreeter")!;

        Assert.Null(spec.Rejection);
        Assert.Equal(RpcContractRules.Fnv1a64("Acme.IGreeter"), spec.Id);
        Assert.Equal(RpcContractRules.ServiceId(symbol, 0), spec.Id);
        foreach (var method in symbol.GetMembers().OfType<IMethodSymbol>())
        {
            var methodSpec = spec.Methods.Single(m => m.Name == method.Name);
            Assert.Equal(RpcContractRules.MethodId(method, RpcContractRules.PinnedOrdinal(method)), methodSpec.Id);
        }

        // Derived: FNV-1a 32 of the signature without the token, top bit set. Pinned: the ordinal.
        Assert.Equal(RpcContractRules.Fnv1a32("SayHelloAsync(Acme.HelloRequest)") | 0x80000000u, spec.Methods.Single(m => m.Name == "SayHelloAsync").Id);
        Assert.Equal(7u, spec.Methods.Single(m => m.Name == "AddAsync").Id);
    }

    [Fact]
    public void PinnedServiceIdIsKept()
    {
        var (spec, _) = Parse("P.IPinned", """
            using System.Threading.Tasks;
            using RpcGen;
            namespace P;
            [RpcService(42UL)] public interface IPinned { Task A(); }
            """);

        Assert.Equal(42UL, spec.Id);
        Assert.Equal("P.IPinned", spec.ServiceName);
    }

    [Fact]
    public void MethodsDescribeTheirShapeAndEnvelope()
    {
        var (spec, _) = Parse("Acme.IGreeter", TestSources.Greeter);

        var sayHello = spec.Methods[0];
        Assert.Equal(("SayHelloAsync", ReturnShape.TaskOfT, false), (sayHello.MemberName, sayHello.ReturnShape, sayHello.IsOneWay));
        Assert.Equal("cancellationToken", sayHello.CancellationTokenName);
        Assert.Equal("SayHelloAsyncRequest", sayHello.RequestType);
        var parameter = Assert.Single(sayHello.Parameters);
        Assert.Equal(("request", "Request", "global::Acme.HelloRequest"), (parameter.Name, parameter.FieldName, parameter.Type));
        Assert.Equal("global::Acme.HelloReply", sayHello.ResultKey);

        var notify = spec.Methods[1];
        Assert.Equal((ReturnShape.Void, true), (notify.ReturnShape, notify.IsOneWay));
        var ping = spec.Methods[3];
        Assert.Null(ping.RequestType);
        Assert.Null(ping.ResultKey);
    }

    [Fact]
    public void OverloadsAndReservedNamesGetUniqueMemberNames()
    {
        var (spec, _) = Parse("N.IOverloads", """
            using System.Threading.Tasks;
            using RpcGen;
            namespace N;
            [RpcService]
            public interface IOverloads
            {
                Task Run(int a);
                Task Run(int a, int b);
                Task Service();
                Task Formatters();
                Task OverloadsRpc();
                Task Keyword(int @class, string @event);
            }
            """);

        Assert.Equal(["Run", "Run_2", "Service_2", "Formatters_2", "OverloadsRpc_2", "Keyword"], spec.Methods.Select(m => m.MemberName));
        Assert.Equal(["@class", "@event"], spec.Methods[5].Parameters.Select(p => p.Name));
        Assert.Equal(["Class", "Event"], spec.Methods[5].Parameters.Select(p => p.FieldName));
    }

    [Fact]
    public void InheritedMethodsFollowTheServicesOwnAndDefaultImplementationsAreSkipped()
    {
        var (spec, _) = Parse("N.IChild", """
            using System.Threading.Tasks;
            using RpcGen;
            namespace N;
            public interface IParent { Task Inherited(); Task WithBody() => Task.CompletedTask; }
            [RpcService]
            public interface IChild : IParent { Task Own(); }
            """);

        Assert.Equal(["Own", "Inherited"], spec.Methods.Select(m => m.Name));
        Assert.Equal("global::N.IParent", spec.Methods[1].DeclaringInterface);
        Assert.Equal("global::N.IChild", spec.Methods[0].DeclaringInterface);
    }

    [Fact]
    public void InheritedIAsyncDisposableIsTheProxysOwnNotARemoteMethod()
    {
        var (spec, _) = Parse("N.ISession", """
            using System;
            using System.Threading.Tasks;
            using RpcGen;
            namespace N;
            [RpcService]
            public interface ISession : IAsyncDisposable { Task<int> CountAsync(); }
            """);

        Assert.Equal(["CountAsync"], spec.Methods.Select(m => m.Name));
    }

    [Fact]
    public void ServicesPassedByReferenceAreTypeSpecsOfTheirOwnShape()
    {
        var (spec, _) = Parse("N.IFeed", """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;
            namespace N;
            [RpcService] public interface IListener { Task OnAsync(int value); }
            public sealed record Watch(IListener? Owner);
            [RpcService] public interface IFeed { Task<IListener?> EchoAsync(IListener listener, List<IListener> others, Watch watch); Task<IFeed> SelfAsync(); }
            """);

        Assert.Null(spec.Rejection);
        Assert.Equal(TypeShape.Service, TypeOf(spec, "global::N.IListener").Shape);
        Assert.Equal(TypeShape.Service, TypeOf(spec, "global::N.IFeed").Shape);
        Assert.Equal(["global::N.IListener"], TypeOf(spec, "global::System.Collections.Generic.List<global::N.IListener>").Arguments);
        Assert.Equal("global::N.IListener", spec.Methods[0].ResultKey);
        Assert.Equal("global::N.IListener?", spec.Methods[0].ResultType);
    }

    [Theory]
    [InlineData("IGreeter", "Greeter")]
    [InlineData("Iso", "Iso")]
    [InlineData("I", "I")]
    [InlineData("Greeter", "Greeter")]
    public void BaseNameStripsTheInterfacePrefix(string name, string expected)
    {
        var compilation = GeneratorHarness.CreateCompilation($"public interface {name} {{ }}");

        Assert.Equal(expected, RpcContractRules.GeneratedBaseName(compilation.GetTypeByMetadataName(name)!));
    }

    [Fact]
    public void NestedInterfaceBaseNameIsPrefixedWithItsContainers()
    {
        var compilation = GeneratorHarness.CreateCompilation("public class A { public class B { public interface IC { } } }");

        Assert.Equal("A_B_C", RpcContractRules.GeneratedBaseName(compilation.GetTypeByMetadataName("A+B+IC")!));
    }

    [Fact]
    public void MemberPositionsFollowPinsThenDeclarationOrder()
    {
        var (spec, _) = Parse("M.IMembers", """
            using System.Threading.Tasks;
            using RpcGen;
            namespace M;
            public sealed class Dto
            {
                public int A { get; set; }
                [RpcMember(5)] public int Pinned5 { get; set; }
                public int B { get; set; }
                [RpcMember(1)] public int Pinned1 { get; set; }
                [RpcIgnore] public int Ignored { get; set; }
                public int ReadOnly => A;
                public static int Static { get; set; }
                public int Field;
            }
            [RpcService] public interface IMembers { Task Put(Dto dto); }
            """);

        var dto = TypeOf(spec, "global::M.Dto").Dto!;
        Assert.Equal(
            [("Pinned1", 1), ("Pinned5", 5), ("A", 6), ("B", 7), ("Field", 8)],
            dto.Members.Select(m => (m.Name, m.Position)));
        Assert.Equal(9, dto.Length);
    }

    [Fact]
    public void BaseClassMembersComeFirst()
    {
        var (spec, _) = Parse("M.IMembers", """
            using System.Threading.Tasks;
            using RpcGen;
            namespace M;
            public class Base { public int Inherited { get; set; } }
            public sealed class Derived : Base { public int Own { get; set; } }
            [RpcService] public interface IMembers { Task Put(Derived dto); }
            """);

        Assert.Equal(["Inherited", "Own"], TypeOf(spec, "global::M.Derived").Dto!.Members.Select(m => m.Name));
    }

    [Fact]
    public void ConstructionUsesTheWidestMatchingConstructorThenInitializersAndSetters()
    {
        var (spec, _) = Parse("M.IMembers", """
            using System.Threading.Tasks;
            using RpcGen;
            namespace M;
            public sealed class Dto
            {
                public Dto(string name) : this(name, 0) { }
                public Dto(string name, int age) { Name = name; Age = age; }
                public Dto(string name, int age, object unmatched) : this(name, age) { }
                public string Name { get; }
                public int Age { get; }
                public string? Nickname { get; set; }
                public string Tag { get; init; } = "";
                public required string Code { get; set; }
            }
            public record Positional(int X, int Y) { public int Z { get; init; } }
            [RpcService] public interface IMembers { Task Put(Dto dto, Positional p); }
            """);

        var dto = TypeOf(spec, "global::M.Dto").Dto!;
        Assert.Equal(["Name", "Age"], dto.ConstructorArguments);
        Assert.Equal(
            [("Name", MemberAssignment.Constructor), ("Age", MemberAssignment.Constructor), ("Nickname", MemberAssignment.Setter), ("Tag", MemberAssignment.Initializer), ("Code", MemberAssignment.Initializer)],
            dto.Members.Select(m => (m.Name, m.Assignment)));

        var positional = TypeOf(spec, "global::M.Positional").Dto!;
        Assert.Equal(["X", "Y"], positional.ConstructorArguments);
        Assert.Equal(MemberAssignment.Initializer, positional.Members.Single(m => m.Name == "Z").Assignment);
    }

    [Fact]
    public void TypeKeysDropNullableAnnotationsThatDeclaredTypesKeep()
    {
        var (spec, _) = Parse("M.INullable", """
            #nullable enable
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;
            namespace M;
            [RpcService] public interface INullable { Task<List<string?>?> Get(string? a, int? b); }
            """);

        var method = Assert.Single(spec.Methods);
        Assert.Equal("global::System.Collections.Generic.List<string?>?", method.ResultType);
        Assert.Equal("global::System.Collections.Generic.List<string>", method.ResultKey);
        Assert.Equal(("string?", "string"), (method.Parameters[0].Type, method.Parameters[0].TypeKey));
        Assert.Equal(("int?", "int?"), (method.Parameters[1].Type, method.Parameters[1].TypeKey));
        Assert.Equal(TypeShape.Nullable, TypeOf(spec, "int?").Shape);
        Assert.Equal(["int"], TypeOf(spec, "int?").Arguments);
    }

    [Fact]
    public void EveryReachableTypeIsDescribedOnceInFirstMetOrder()
    {
        var (spec, _) = Parse("M.IWalk", """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;
            namespace M;
            public enum Kind : short { A, B }
            public sealed class Node { public Kind Kind { get; set; } public List<Node> Children { get; set; } = new(); public Dictionary<string, Node?>? Index { get; set; } }
            [RpcService] public interface IWalk { Task<Node> Get(Node root, Kind[] kinds); }
            """);

        Assert.Equal(
            [
                "global::M.Node",
                "global::M.Kind",
                "global::System.Collections.Generic.List<global::M.Node>",
                "global::System.Collections.Generic.Dictionary<string, global::M.Node>",
                "string",
                "global::M.Kind[]",
            ],
            spec.Types.Select(t => t.Key));
        Assert.Equal("short", TypeOf(spec, "global::M.Kind").EnumUnderlyingType);
        Assert.True(TypeOf(spec, "global::System.Collections.Generic.List<global::M.Node>").IsConcreteCollection);
        Assert.Equal("String", TypeOf(spec, "string").Identifier);
    }

    [Fact]
    public void IdentifiersAreUniqueAcrossNamespacesAndGenericArguments()
    {
        var (spec, _) = Parse("M.IIds", """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;
            namespace A { public sealed class Item { } }
            namespace B { public sealed class Item { } }
            namespace M
            {
                public sealed class Page<T> { public List<T> Items { get; set; } = new(); }
                [RpcService] public interface IIds { Task Put(A.Item a, B.Item b, Page<A.Item> pa, Page<B.Item> pb, IReadOnlyList<int> list, int[][] jagged); }
            }
            """);

        Assert.Equal("Item", TypeOf(spec, "global::A.Item").Identifier);
        Assert.Equal("Item2", TypeOf(spec, "global::B.Item").Identifier);
        Assert.Equal("Page_Item", TypeOf(spec, "global::M.Page<global::A.Item>").Identifier);
        Assert.Equal("Page_Item2", TypeOf(spec, "global::M.Page<global::B.Item>").Identifier);
        Assert.Equal("IReadOnlyList_Int32", TypeOf(spec, "global::System.Collections.Generic.IReadOnlyList<int>").Identifier);
        Assert.False(TypeOf(spec, "global::System.Collections.Generic.IReadOnlyList<int>").IsConcreteCollection);
        Assert.Equal("Int32_Array_Array", TypeOf(spec, "int[][]").Identifier);
        Assert.Equal(spec.Types.Count, spec.Types.Select(t => t.Identifier).Distinct().Count());
    }

    [Fact]
    public void PolymorphicBaseListsItsKnownTypes()
    {
        var (spec, _) = Parse("Drawing.IDrawing", TestSources.Drawing);

        var shape = TypeOf(spec, "global::Drawing.Shape");
        Assert.Equal(TypeShape.Polymorphic, shape.Shape);
        Assert.Null(shape.Dto);
        Assert.Equal([new KnownTypeSpec(1, "global::Drawing.Circle"), new KnownTypeSpec(2, "global::Drawing.Square")], shape.KnownTypes);

        var animal = TypeOf(spec, "global::Drawing.Animal");
        Assert.NotNull(animal.Dto);
        Assert.Equal(["Name"], animal.Dto!.Members.Select(m => m.Name));
        Assert.Equal(TypeShape.Dto, TypeOf(spec, "global::Drawing.Dog").Shape);
    }

    [Fact]
    public void StreamingParametersAndResultsSetTheCallKind()
    {
        var (spec, _) = Parse("S.IStreams", """
            using System.Collections.Generic;
            using System.IO;
            using System.Threading;
            using System.Threading.Tasks;
            using RpcGen;
            namespace S;
            [RpcService]
            public interface IStreams
            {
                IAsyncEnumerable<int> Server(int a, CancellationToken ct = default);
                Task<int> Client(string before, IAsyncEnumerable<long> items, string after);
                IAsyncEnumerable<string> Duplex(IAsyncEnumerable<string> lines);
                Task<Stream> Download();
                Task Upload(Stream data);
                Task<int> Plain(int a);
            }
            """);

        Assert.Equal(
            [CallKind.ServerStreaming, CallKind.ClientStreaming, CallKind.DuplexStreaming, CallKind.ServerStreaming, CallKind.ClientStreaming, CallKind.Unary],
            spec.Methods.Select(m => m.Kind));

        var server = spec.Methods[0];
        Assert.Equal(new StreamSpec("", -1, "global::System.Collections.Generic.IAsyncEnumerable<int>", "int", "int", false, StreamWrapper.None), server.ResponseStream);
        Assert.Equal("ct", server.CancellationTokenName);

        var client = spec.Methods[1];
        Assert.Equal(["before", "after"], client.Parameters.Select(p => p.Name));
        Assert.Equal(("items", 1, "long"), (client.RequestStream!.Name, client.RequestStream.Index, client.RequestStream.ItemKey));
        Assert.Equal("int", client.ResultKey);

        var download = spec.Methods[3];
        Assert.Equal((true, StreamWrapper.Task, StreamSpec.BytesItem), (download.ResponseStream!.IsBytes, download.ResponseStream.Wrapper, download.ResponseStream.ItemKey));
        Assert.Null(download.ResultKey);
        Assert.True(spec.Methods[4].RequestStream!.IsBytes);

        // Stream types never become type specs: they are not values.
        Assert.DoesNotContain(spec.Types, t => t.Key.Contains("IAsyncEnumerable") || t.Key.Contains("Stream"));
        Assert.Equal(RpcContractRules.Fnv1a32("Client(string,System.Collections.Generic.IAsyncEnumerable<long>,string)") | 0x80000000u, client.Id);
    }

    [Fact]
    public void RejectionKeepsNoMethodsOrTypes()
    {
        var (spec, _) = Parse("IBroken", """
            using System.Threading.Tasks;
            using RpcGen;
            [RpcService] public interface IBroken { Task Ok(int a); int Bad(object b); }
            """);

        Assert.NotNull(spec.Rejection);
        Assert.Empty(spec.Methods);
        Assert.Empty(spec.Types);
    }
}
