using RpcGen.Generators.Tests.Infrastructure;

namespace RpcGen.Generators.Tests;

/// <summary>
/// The generated sources of representative contracts, compared with the approved files in
/// <c>Snapshots/</c>. Each contract must also compile without a warning once generated.
/// </summary>
public class SnapshotTests
{
    [Fact]
    public void Greeter()
    {
        var result = GeneratorHarness.RunClean(TestSources.Greeter);
        Snapshot.Verify(result);
    }

    /// <summary>
    /// A client package (<c>RpcGenClientPackage=true</c>): the public contract's generated code is
    /// public; a contract that is not public keeps internal code.
    /// </summary>
    [Fact]
    public void ClientPackage()
    {
        var (result, _) = GeneratorHarness.RunCleanClientPackage(TestSources.Greeter, ClientPackageInternalContract);
        Snapshot.Verify(result);
    }

    /// <summary>Another assembly can use what a client package generated, as a consumer of the package would.</summary>
    [Fact]
    public void ClientPackage_code_is_usable_from_another_assembly()
    {
        var (_, contracts) = GeneratorHarness.RunCleanClientPackage(TestSources.Greeter, ClientPackageInternalContract);
        var consumer = GeneratorHarness.CreateConsumerCompilation(contracts, """
            using RpcGen;
            using RpcGen.Serialization;

            public static class Consumer
            {
                public static Acme.IGreeter Proxy(IRpcChannel channel) => new Acme.GreeterProxy(channel);
                public static IRpcDispatcher Dispatcher(Acme.IGreeter implementation) => new Acme.GreeterDispatcher(implementation);
                public static RpcServiceInfo Service => Acme.GreeterRpc.Service;
                public static RpcMethodInfo Method => Acme.GreeterRpc.SayHelloAsync;
                public static IRpcFormatter<Acme.HelloReply> Formatter => Acme.GreeterRpc.Formatters.HelloReplyFormatter.Instance;
                public static System.Type Promise => typeof(Acme.GreeterPromise);
                public static void Register() => Acme.GreeterRpcRegistration.Register();
            }
            """);
        GeneratorHarness.AssertCompilesCleanly(consumer);

        var hidden = GeneratorHarness.CreateConsumerCompilation(contracts, "public static class Consumer { public static System.Type Proxy => typeof(Audit.AuditProxy); }");
        Assert.Contains(hidden.GetDiagnostics(TestContext.Current.CancellationToken), d => d.Id == "CS0122");
    }

    private const string ClientPackageInternalContract = """
        using System.Threading.Tasks;
        using RpcGen;

        namespace Audit;

        [RpcService]
        internal interface IAudit
        {
            Task RecordAsync(string line);
        }
        """;

    [Fact]
    public void EveryReturnShape()
    {
        var result = GeneratorHarness.RunClean("""
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Shapes;

            [RpcService]
            public interface IShapes
            {
                Task PlainTask();
                Task TaskWithToken(CancellationToken cancellationToken);
                Task<string> TaskOfT(int value);
                Task<string?> TaskOfNullable(string? text, CancellationToken cancellationToken = default);
                ValueTask PlainValueTask(long id);
                ValueTask<int> ValueTaskOfT(int a, int b, CancellationToken token);
                ValueTask<List<string?>?> ValueTaskOfAnnotatedList(IReadOnlyList<string?> items);
                [OneWay] void FireAndForget(string message);
                [OneWay] ValueTask OneWayValueTask(byte[] data);
                [OneWay] void OneWayNoParameters();
                [Idempotent] Task<string> IdempotentRead(int key);
            }
            """);
        Snapshot.Verify(result);
    }

    [Fact]
    public void AuthorizationPolicies()
    {
        // The interface's policies come first on every method, then the method's own, without repeats.
        var result = GeneratorHarness.RunClean("""
            using System.Threading.Tasks;
            using RpcGen;

            namespace Secured;

            [RpcService]
            [RpcAuthorize("staff")]
            public interface IPayroll
            {
                Task<decimal> GetAsync(string employee);

                [RpcAuthorize("admins"), RpcAuthorize("staff")]
                [Idempotent]
                Task RaiseAsync(string employee, decimal amount);
            }
            """);
        Snapshot.Verify(result);
    }

    [Fact]
    public void StreamingShapes()
    {
        var result = GeneratorHarness.RunClean("""
            using System.Collections.Generic;
            using System.IO;
            using System.Threading;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Streaming;

            public record Reading(string Sensor, double Value);

            [RpcService]
            public interface ITelemetry
            {
                IAsyncEnumerable<Reading> WatchAsync(string sensor, CancellationToken cancellationToken = default);
                IAsyncEnumerable<int> TicksAsync();
                Task<int> RecordAsync(IAsyncEnumerable<Reading> readings, CancellationToken cancellationToken = default);
                Task StoreAsync(string bucket, IAsyncEnumerable<Reading?> readings);
                ValueTask<double> AverageAsync(IAsyncEnumerable<double> values);
                IAsyncEnumerable<Reading?> ConvertAsync(IAsyncEnumerable<string?> lines, string unit);
                Task<Stream> ExportAsync(string sensor);
                ValueTask<Stream?> MaybeExportAsync(string sensor);
                Task<long> ImportAsync(Stream data, string sensor, CancellationToken cancellationToken = default);
                ValueTask CompressAsync(Stream data);
                Task<Stream> TransformAsync(Stream data);
            }
            """);
        Snapshot.Verify(result);
    }

    [Fact]
    public void PinnedIds()
    {
        var result = GeneratorHarness.RunClean("""
            using System.Threading.Tasks;
            using RpcGen;

            namespace Pinned;

            [RpcService(0x0123456789ABCDEFUL)]
            public interface ICalculator
            {
                [RpcMethod(1)] ValueTask<int> Add(int a, int b);
                [RpcMethod(2)] ValueTask<int> Subtract(int a, int b);
                ValueTask<double> Divide(double a, double b);
            }
            """);
        Snapshot.Verify(result);
    }

    [Fact]
    public void PolymorphicDtos()
    {
        var result = GeneratorHarness.RunClean(TestSources.Drawing);
        Snapshot.Verify(result);
    }

    [Fact]
    public void GenericDtos()
    {
        var result = GeneratorHarness.RunClean("""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Paging;

            public sealed class Page<T>
            {
                public List<T> Items { get; set; } = new();
                public string? NextToken { get; set; }
            }

            public record Customer(string Name);
            public record struct Pair<TFirst, TSecond>(TFirst First, TSecond Second);

            [RpcService]
            public interface ICustomers
            {
                Task<Page<Customer>> ListAsync(string? pageToken);
                Task<Page<int>> IdsAsync();
                Task<Pair<Customer, Page<Customer>?>> FirstAsync();
            }
            """);
        Snapshot.Verify(result);
    }

    [Fact]
    public void NestedTypes()
    {
        var result = GeneratorHarness.RunClean("""
            using System.Threading.Tasks;
            using RpcGen;

            namespace Nesting;

            public static class Outer
            {
                public sealed class Request
                {
                    public int Value { get; set; }
                }

                [RpcService]
                public interface IInner
                {
                    Task<Reply> CallAsync(Request request);
                }
            }

            public static class Replies
            {
                public record Reply(int Value);
            }
            """.Replace("Task<Reply>", "Task<Replies.Reply>"));
        Snapshot.Verify(result);
    }

    [Fact]
    public void CollectionsNullablesAndEnums()
    {
        var result = GeneratorHarness.RunClean("""
            using System;
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Inventory;

            public enum Color : byte { Red, Green, Blue }
            public enum Size { Small = -1, Medium, Large }

            public sealed class Item
            {
                public Guid Id { get; set; }
                public Color Color { get; set; }
                public Size? Size { get; set; }
                public int? Count { get; set; }
                public decimal Price { get; set; }
                public DateTimeOffset Added { get; set; }
                public TimeSpan Shelf { get; set; }
                public DateTime Seen { get; set; }
                public int[][] Grid { get; set; } = [];
                public byte[]? Blob { get; set; }
                public IReadOnlyList<string> Tags { get; set; } = [];
                public IEnumerable<int?> Scores { get; set; } = [];
                public IList<Item>? Children { get; set; }
                public ICollection<long> Longs { get; set; } = [];
                public IReadOnlyCollection<char> Chars { get; set; } = [];
                public Dictionary<string, List<Item>> ByName { get; set; } = new();
                public IDictionary<int, string?> Labels { get; set; } = new Dictionary<int, string?>();
                public IReadOnlyDictionary<Color, double> Weights { get; set; } = new Dictionary<Color, double>();
            }

            [RpcService]
            public interface IInventory
            {
                Task<Item?> FindAsync(Guid id);
                Task<Dictionary<Guid, Item>> AllAsync(Color[] colors, List<Size?> sizes);
            }
            """);
        Snapshot.Verify(result);
    }

    [Fact]
    public void PinnedMembersAndConstruction()
    {
        var result = GeneratorHarness.RunClean("""
            using System.Threading.Tasks;
            using RpcGen;

            namespace Members;

            public sealed class Pinned
            {
                [RpcMember(3)] public string Last { get; set; } = "";
                [RpcMember(0)] public int First { get; set; }
                public int AfterPins { get; set; }
                [RpcIgnore] public int Ignored { get; set; }
                public int Computed => First + 1;
            }

            public sealed class Constructed
            {
                public Constructed(string name, int age)
                {
                    Name = name;
                    Age = age;
                }

                public Constructed(string name) : this(name, 0) { }

                public string Name { get; }
                public int Age { get; }
                public string? Nickname { get; set; }
                public required string Required { get; init; }
            }

            public struct Point
            {
                public int X;
                public int Y;
            }

            public readonly struct Fixed
            {
                public Fixed(int value) => Value = value;
                public int Value { get; }
            }

            [RpcService]
            public interface IMembers
            {
                Task<Pinned> EchoPinned(Pinned value);
                Task<Constructed> EchoConstructed(Constructed value);
                Task<Point> EchoPoint(Point value, Fixed @fixed);
            }
            """);
        Snapshot.Verify(result);
    }

    [Fact]
    public void InheritedInterface()
    {
        var result = GeneratorHarness.RunClean("""
            using System.Threading;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Inheritance;

            public interface IHealth
            {
                Task<bool> PingAsync(CancellationToken cancellationToken = default);
            }

            public interface INamed
            {
                Task<string> NameAsync();
            }

            [RpcService]
            public interface IWorker : IHealth, INamed
            {
                Task<int> WorkAsync(int units);
                Task<int> WorkAsync(int units, string label);
            }
            """);
        Snapshot.Verify(result);
    }

    [Fact]
    public void GlobalNamespace()
    {
        var result = GeneratorHarness.RunClean("""
            using System.Threading.Tasks;
            using RpcGen;

            [RpcService]
            public interface IClock
            {
                Task<long> NowAsync();
            }

            [RpcService]
            internal interface Iso
            {
                Task<string> NormalizeAsync(string value);
            }
            """);
        Snapshot.Verify(result);
    }

    [Fact]
    public void ServiceReferences()
    {
        var result = GeneratorHarness.RunClean("""
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Quotes;

            public record Quote(string Symbol, decimal Price);

            public sealed record Watchlist(string Name, IQuoteListener? Owner, List<IQuoteListener> Members, Dictionary<string, IQuoteListener?> BySymbol);

            [RpcService]
            public interface IQuoteListener
            {
                Task OnQuoteAsync(Quote quote);

                [OneWay]
                void OnClosed(string reason);
            }

            [RpcService]
            public interface IQuoteFeed : IAsyncDisposable
            {
                Task<int> SubscribeAsync(string symbol, IQuoteListener listener);
                Task<IQuoteListener> EchoAsync(IQuoteListener l);
                ValueTask<IQuoteListener?> FindAsync(string symbol, CancellationToken cancellationToken = default);
                Task WatchAsync(Watchlist watchlist, IQuoteListener[] extra);
                IAsyncEnumerable<IQuoteListener> ListenersAsync(IAsyncEnumerable<IQuoteListener?> candidates);
                Task<IQuoteFeed> ForkAsync();
                Task DisposeAsync(string reason);
            }
            """);
        Snapshot.Verify(result);
    }

    [Fact]
    public void CapnpBinding()
    {
        var result = GeneratorHarness.RunClean(capabilityTransport: true, """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Sketch;

            [RpcService(0xE1B2_0000_0000_0001)]
            public interface ICanvas
            {
                [RpcMethod(0)] ILayer AddLayer(string name);
                [RpcMethod(1)] Task<int> DrawAsync(Stroke stroke, CancellationToken cancellationToken);
                [RpcMethod(2)] Task<ILayer> FindAsync(string name);
                [RpcMethod(3)] Task SubscribeAsync(ILayer listener);
                [RpcMethod(4), OneWay] void Clear();
            }

            [RpcService(0xE1B2_0000_0000_0002)]
            public interface ILayer
            {
                Task<string> NameAsync();
            }

            public enum Tool { Pen, Brush }

            public sealed record Point(float X, float Y);

            [RpcKnownType(typeof(Solid), 0)]
            [RpcKnownType(typeof(Dashed), 1)]
            public abstract record Style
            {
                public sealed record Solid(uint Color) : Style;
                public sealed record Dashed(uint Color, ushort Period) : Style;
            }

            public sealed record Stroke(Tool Tool, bool Closed, IReadOnlyList<Point> Points, Style Style, byte[] Texture, string? Label);
            """);
        Assert.Contains(result.GeneratedSources, s => s.HintName == "Sketch.ICanvas.Capnp.g.cs");
        Snapshot.Verify(result);
    }
}
