using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0008UnserializableTypeTests
{
    [Fact]
    public async Task Unsupported_type_deep_in_a_DTO_is_reported_once_at_the_member_that_holds_it_with_its_path()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            public sealed class Customer
            {
                public string Name { get; set; } = "";
                public Action? {|RPC0008:Callback|} { get; set; }
            }

            public sealed record Order(int Id, Customer Customer);

            [RpcService]
            public interface IOrders
            {
                Task PlaceAsync(Order order);
                Task<Order> GetAsync(int id);
                Task<List<Order>> ListAsync();
            }
            """);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("Order.Customer.Callback: delegates cannot be serialized; pass an [RpcService] interface to call back", Message(diagnostic));
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
    }

    [Fact]
    public async Task Unsupported_types_in_collections_dictionaries_results_and_known_subtypes_are_reported_with_their_paths()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcKnownType(typeof(Circle), 1)]
            public abstract record Shape;

            public sealed record Circle(double Radius, object {|RPC0008:Tag|}) : Shape;

            [RpcService]
            public interface IMixed
            {
                Task SendAsync({|RPC0008:List<object>|} items);
                Task IndexAsync({|RPC0008:Dictionary<string, Func<int>>|} handlers);
                Task GridAsync({|RPC0008:int[,]|} cells);
                {|RPC0008:Task<Type>|} DescribeAsync();
                Task DrawAsync(Shape shape);
            }
            """);

        Assert.Equal(
            [
                "Shape(Circle).Tag: 'object' has no schema; use a concrete type or a base with [RpcKnownType] subtypes",
                "List<object>[]: 'object' has no schema; use a concrete type or a base with [RpcKnownType] subtypes",
                "Dictionary<string, Func<int>>[value]: delegates cannot be serialized; pass an [RpcService] interface to call back",
                "int[,]: multi-dimensional arrays are not supported; use jagged arrays",
                "Type: System.Type cannot be serialized",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task DTOs_the_generated_code_cannot_rebuild_and_nested_hierarchies_are_reported()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            public sealed class Receipt
            {
                public Receipt(string code) => Number = code;

                public string Number { get; set; }
            }

            public sealed class Total
            {
                public Total(decimal amount) => Amount = amount;
                public Total(decimal tax, string note) => Tax = tax;

                public decimal Amount { get; }
                public decimal {|RPC0017:Tax|} { get; }
            }

            [RpcKnownType(typeof(Shape2D), 1)]
            public abstract record Shape;

            [RpcKnownType(typeof(Circle), 1)]
            public abstract record Shape2D : Shape;

            public sealed record Circle(double Radius) : Shape2D;

            public sealed record Envelope(Receipt {|RPC0023:Receipt|}, Total Total, Shape {|RPC0008:Shape|});

            [RpcService]
            public interface IMail
            {
                Task SendAsync(Envelope envelope);
            }
            """);

        Assert.Equal(
            [
                "Envelope.Total.Tax: 'Total.Tax' is a get-only property, so its value would never arrive; make it settable or init, take it in the constructor, or mark it [RpcIgnore]",
                "Envelope.Receipt: DTO 'Receipt' has no usable constructor: no public constructor takes only its serialized members (matched by name, ignoring case, and type), and none is parameterless; add one whose parameters are named after its members",
                "Envelope.Shape(Shape2D): known type 'Shape2D' must be a concrete class or struct without [RpcKnownType] subtypes of its own; list every subtype on the root",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Internal_type_of_another_assembly_is_reported_even_when_that_assembly_grants_access()
    {
        // InternalsVisibleTo lets the contract compile, but generated code is compiled into the service's
        // assembly by the generator's rules, which only name public types of other assemblies.
        var models = AnalyzerHarness.CompileReference(
            "Models",
            """
            [assembly: System.Runtime.CompilerServices.InternalsVisibleTo("TestContracts")]

            namespace Models;

            internal sealed class Audit
            {
                public string User { get; set; } = "";
            }
            """);

        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            internal interface IAudit
            {
                Task RecordAsync({|RPC0008:Models.Audit|} audit);
            }
            """,
            [models]);

        Assert.Equal("Audit: 'Audit' is not accessible to generated code; make it public or internal", Message(Assert.Single(diagnostics)));
    }

    [Fact]
    public async Task Items_of_streamed_parameters_and_results_are_walked_like_any_value()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            public sealed class Order
            {
                public long Number { get; set; }
                public Action? {|RPC0008:Callback|} { get; set; }
            }

            public sealed record Receipt(long Number, decimal Total);

            [RpcService]
            public interface IOrders
            {
                Task<int> ImportAsync(IAsyncEnumerable<Order> orders);
                {|RPC0008:IAsyncEnumerable<object>|} WatchAsync();
                IAsyncEnumerable<Receipt?> ReceiptsAsync(IAsyncEnumerable<long> numbers);
            }
            """);

        Assert.Equal(
            [
                "Order.Callback: delegates cannot be serialized; pass an [RpcService] interface to call back",
                "IAsyncEnumerable<object>[]: 'object' has no schema; use a concrete type or a base with [RpcKnownType] subtypes",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Streams_inside_DTOs_collections_results_and_stream_items_are_reported()
    {
        var diagnostics = await VerifyAsync(
            """
            using System.IO;

            namespace Shop;

            public sealed class Attachment
            {
                public string Name { get; set; } = "";
                public Stream? {|RPC0008:Content|} { get; set; }
            }

            [RpcService]
            public interface IMail
            {
                Task SendAsync(Attachment attachment);
                Task MergeAsync({|RPC0008:List<IAsyncEnumerable<int>>|} sources);
                {|RPC0008:Task<Stream[]>|} SplitAsync();
                Task<int> UploadAllAsync({|RPC0008:IAsyncEnumerable<Stream>|} files);
                {|RPC0008:IAsyncEnumerable<IAsyncEnumerable<int>>|} PagesAsync();
                {|RPC0008:Task<MemoryStream>|} BufferAsync();
            }
            """);

        Assert.Equal(
            [
                "Attachment.Content: a stream can only be a parameter or the result of a service method, not part of a value",
                "List<IAsyncEnumerable<int>>[]: a stream can only be a parameter or the result of a service method, not part of a value",
                "Stream[][]: a stream can only be a parameter or the result of a service method, not part of a value",
                "IAsyncEnumerable<Stream>[]: a stream can only be a parameter or the result of a service method, not part of a value",
                "IAsyncEnumerable<IAsyncEnumerable<int>>[]: a stream can only be a parameter or the result of a service method, not part of a value",
                "MemoryStream: 'System.IO.MemoryStream' is a framework type without an RpcGen formatter; use a type from the README's type table, or a DTO of your own",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Services_passed_by_reference_anywhere_in_a_signature_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IProgress
            {
                Task ReportAsync(int percent);
            }

            public sealed record Job(string Name, IProgress? Progress, List<IProgress> Observers, Dictionary<string, IProgress> ByStage);

            [RpcService]
            public interface IJobs
            {
                Task RunAsync(IProgress progress, Job job);
                Task<IProgress?> FindAsync(string name);
                IAsyncEnumerable<IProgress> WatchAsync(IAsyncEnumerable<IProgress> progress);
                Task<IJobs> ForkAsync();
            }
            """);
    }

    [Fact]
    public async Task Service_of_an_assembly_built_without_the_generator_is_reported()
    {
        var listeners = AnalyzerHarness.CompileReference(
            "Listeners",
            """
            namespace Listeners;

            [RpcGen.RpcService]
            public interface IListener
            {
                System.Threading.Tasks.Task OnEventAsync(string name);
            }
            """);

        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            public sealed record Subscription(Listeners.IListener {|RPC0008:Listener|});

            [RpcService]
            public interface IEvents
            {
                Task SubscribeAsync(Subscription subscription);
            }
            """,
            [listeners]);

        Assert.Equal(
            "Subscription.Listener: [RpcService] 'IListener' comes from assembly 'Listeners', which was built without the RpcGen generator, so it has no proxy or dispatcher to pass it by reference",
            Message(Assert.Single(diagnostics)));
    }

    [Fact]
    public async Task Service_of_an_assembly_built_with_the_generator_is_not_reported()
    {
        // The generator's module initializer class is what marks an assembly it ran for; this one stands
        // in for it (the generated code itself needs the runtime, which these compilations do not reference).
        var listeners = AnalyzerHarness.CompileReference(
            "Listeners",
            """
            namespace Listeners;

            [RpcGen.RpcService]
            public interface IListener
            {
                System.Threading.Tasks.Task OnEventAsync(string name);
            }

            internal static class ListenerRpcRegistration
            {
            }
            """);

        await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IEvents
            {
                Task<Listeners.IListener> SubscribeAsync(Listeners.IListener listener);
            }
            """,
            [listeners]);
    }

    [Fact]
    public async Task Internal_service_of_another_assembly_is_reported_as_inaccessible()
    {
        var listeners = AnalyzerHarness.CompileReference(
            "Listeners",
            """
            [assembly: System.Runtime.CompilerServices.InternalsVisibleTo("TestContracts")]

            namespace Listeners;

            [RpcGen.RpcService]
            internal interface IListener
            {
                System.Threading.Tasks.Task OnEventAsync(string name);
            }

            internal static class ListenerRpcRegistration
            {
            }
            """);

        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            internal interface IEvents
            {
                Task SubscribeAsync({|RPC0008:Listeners.IListener|} listener);
            }
            """,
            [listeners]);

        Assert.Equal("IListener: 'IListener' is not accessible to generated code; make it public or internal", Message(Assert.Single(diagnostics)));
    }

    [Fact]
    public async Task Recursive_DTOs_ignored_members_and_trailing_tokens_are_not_reported_as_unserializable()
    {
        await VerifyAsync(
            """
            namespace Shop;

            public sealed class Node
            {
                public string Name { get; set; } = "";
                public List<Node> Children { get; set; } = [];
                public Node? {|RPC0028:Parent|} { get; set; }

                [RpcIgnore]
                public Action? OnChanged { get; set; }
            }

            [RpcService]
            public interface ITree
            {
                Task<Node> GetAsync(Node root, CancellationToken cancellationToken);
            }
            """);
    }
}
