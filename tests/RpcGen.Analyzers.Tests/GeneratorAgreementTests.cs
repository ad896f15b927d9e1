using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RpcGen.Generators;

namespace RpcGen.Analyzers.Tests;

/// <summary>
/// The analyzers and the generator judge the same contract the same way: the generator declines a
/// service (RPC1000), or gives a type a formatter that fails the calls carrying it (reported by the
/// analyzers alone, at the member), exactly when an analyzer reports something on it.
/// </summary>
public sealed class GeneratorAgreementTests
{
    public static TheoryData<string, string> Contracts => new()
    {
        // Streaming shapes the generator supports.
        { "IAsyncEnumerable<int> CountAsync(int from, CancellationToken cancellationToken = default);", "" },
        { "IAsyncEnumerable<Reading?> WatchAsync(string sensor);", "public sealed record Reading(string Sensor, double Value);" },
        { "Task<int> SumAsync(IAsyncEnumerable<int> values, CancellationToken cancellationToken = default);", "" },
        { "IAsyncEnumerable<string> PrefixAsync(IAsyncEnumerable<string> lines, string prefix);", "" },
        { "Task<Stream> DownloadAsync(string name);", "" },
        { "ValueTask<Stream> ReverseAsync(Stream input);", "" },
        { "Task<long> UploadAsync(string name, Stream content, CancellationToken cancellationToken = default);", "" },

        // Streams no call can carry.
        { "Task CopyAsync(Stream source, Stream target);", "" },
        { "Task MergeAsync(IAsyncEnumerable<int> left, IAsyncEnumerable<int> right);", "" },
        { "[OneWay] ValueTask RecordAsync(IAsyncEnumerable<string> lines);", "" },
        { "[OneWay] void Upload(Stream content);", "" },
        { "[OneWay] IAsyncEnumerable<int> TailAsync();", "" },
        { "[OneWay] ValueTask<Stream> ExportAsync();", "" },
        { "Stream Open();", "" },
        { "Task<IAsyncEnumerable<int>> CountAsync();", "" },
        { "ValueTask<IAsyncEnumerable<int>> CountAsync();", "" },
        { "Task<long> CopyAsync(ref Stream source);", "" },

        // Streams inside values, and stream items that cannot be serialized.
        { "Task SendAsync(Attachment attachment);", "public sealed class Attachment { public Stream? Content { get; set; } }" },
        { "Task MergeAsync(List<IAsyncEnumerable<int>> sources);", "" },
        { "Task<Stream[]> SplitAsync();", "" },
        { "Task<MemoryStream> BufferAsync();", "" },
        { "Task<int> UploadAllAsync(IAsyncEnumerable<Stream> files);", "" },
        { "IAsyncEnumerable<IAsyncEnumerable<int>> PagesAsync();", "" },
        { "IAsyncEnumerable<object> WatchAsync();", "" },
        { "Task ImportAsync(IAsyncEnumerable<Order> orders);", "public sealed class Order { public Action? Callback { get; set; } }" },

        // Services passed by reference.
        { "Task<int> SubscribeAsync(string symbol, IQuoteListener listener); Task<IQuoteListener> EchoAsync(IQuoteListener l);", Listener },
        { "Task WatchAsync(Watch watch); IAsyncEnumerable<IQuoteListener?> ListenersAsync(IAsyncEnumerable<IQuoteListener> all);", Listener + "public sealed record Watch(IQuoteListener? Owner, List<IQuoteListener> Others);" },
        { "Task<IContract> ForkAsync(); Task<ISession> OpenAsync();", "[RpcService] public interface ISession : IAsyncDisposable { Task<int> CountAsync(); }" },
        { "Task SubscribeAsync(IQuoteListener listener);", "[RpcService] public interface IQuoteListener { int Count(); }" },
        { "Task SubscribeAsync(IQuoteListener listener);", "[RpcService] public interface IQuoteListener { Task SubscribeAsync(IContract feed, object tag); }" },
        { "Task CompareAsync(IComparable<int> comparer);", "" },
    };

    private const string Listener = "[RpcService] public interface IQuoteListener { Task OnQuoteAsync(decimal price); [OneWay] void OnClosed(string reason); }";

    [Theory]
    [MemberData(nameof(Contracts))]
    public async Task Generator_declines_a_service_exactly_when_an_analyzer_reports_on_it(string members, string declarations)
    {
        var source = $$"""
            using System.IO;

            namespace Agreement;

            [RpcService]
            public interface IContract
            {
                {{members}}
            }

            {{declarations}}
            """;
        var compilation = AnalyzerHarness.Compile(source);
        Assert.Empty(compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));

        var analyzerFindings = (await AnalyzerHarness.AnalyzeAsync(compilation))
            .Select(d => d.Id + ": " + d.GetMessage(CultureInfo.InvariantCulture))
            .ToList();
        var run = CSharpGeneratorDriver.Create(new RpcGenerator())
            .RunGenerators(compilation, TestContext.Current.CancellationToken)
            .GetRunResult();
        var generatorFindings = run.Diagnostics
            .Select(d => d.Id + ": " + d.GetMessage(CultureInfo.InvariantCulture))
            .Concat(run.GeneratedTrees
                .SelectMany(t => t.ToString().Split('\n'))
                .Where(line => line.Contains("UnsupportedFormatter<", StringComparison.Ordinal))
                .Select(line => line.Trim()))
            .ToList();

        Assert.True(
            analyzerFindings.Count > 0 == generatorFindings.Count > 0,
            $"The analyzers reported [{string.Join("; ", analyzerFindings)}] and the generator [{string.Join("; ", generatorFindings)}].");
    }

    public static TheoryData<string, string> CapnpContracts => new()
    {
        { "Task<double> PriceAsync(string symbol, CancellationToken cancellationToken); IAsyncEnumerable<int> TicksAsync(); Task<int> CountAsync();", "" },
        { "IAsyncEnumerable<Tick> TicksAsync(string symbol); Task<int> UploadAsync(IAsyncEnumerable<Tick> ticks); IAsyncEnumerable<int> ChatAsync(IAsyncEnumerable<int> lines); Task<Stream> DownloadAsync(string name); IAsyncEnumerable<decimal> PricesAsync(); Task StoreAsync(string name, Stream content);", "public sealed record Tick(string Symbol, double Price);" },
        { "Task<decimal> PriceAsync(string symbol); Task<int[]> CountsAsync(List<string> symbols);", "" },
        { "Task PutAsync(Order order); Task<Order?> GetAsync(int id);", "public sealed record Order(int Id, List<Line> Lines); public sealed record Line(string Sku, decimal Price);" },
        { "Task PutAsync(Order order); Task<Color> ColorAsync();", "public sealed record Order(int Id, string[] Tags, byte[] Blob, Color Color); public enum Color { Red, Green }" },
        { "Task<Flags> FlagsAsync(); Task<Guid> IdAsync(); Task<Dictionary<string, int>> MapAsync();", "[Flags] public enum Flags { A = 1, B = 2 }" },
        { "Task DrawAsync(Shape shape); Task MarkAsync(Mark mark);", "[RpcKnownType(typeof(Circle), 1), RpcKnownType(typeof(Square), 2)] public abstract record Shape; public sealed record Circle(double R) : Shape; public sealed record Square(double Side) : Shape; [RpcKnownType(typeof(Dot), 1)] public abstract record Mark; public sealed record Dot(int X) : Mark;" },
        { "Task DrawAsync(Shape shape);", "[RpcKnownType(typeof(Circle), 1), RpcKnownType(typeof(Square), 2)] public abstract record Shape(string Name); public sealed record Circle(string Name, double R) : Shape(Name); public sealed record Square(string Name, double Side) : Shape(Name);" },
        { "Task<int> SubscribeAsync(IQuoteListener listener); Task<int?> MaybeAsync(); Task<long> UploadAsync(Stream content);", "[RpcService] public interface IQuoteListener { Task OnQuoteAsync(double price); }" },
    };

    [Theory]
    [MemberData(nameof(CapnpContracts))]
    public async Task Analyzer_reports_RPC0022_on_exactly_the_methods_the_generator_leaves_off_the_Capnp_binding(string members, string declarations)
    {
        var source = $$"""
            using System.IO;

            namespace RpcGen.Capnp
            {
                public interface ICapnpProxy { }
            }

            namespace Agreement
            {
                [RpcService]
                public interface IContract
                {
                    {{members}}
                }

                {{declarations}}
            }
            """;
        var compilation = AnalyzerHarness.Compile(source);
        Assert.Empty(compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));

        var analyzerMethods = (await AnalyzerHarness.AnalyzeAsync(compilation))
            .Where(d => d.Id == DiagnosticIds.NoCapnpForm)
            .Select(d => d.Location.SourceTree!.GetText(TestContext.Current.CancellationToken).ToString(d.Location.SourceSpan))
            .Order(StringComparer.Ordinal)
            .ToList();
        var run = CSharpGeneratorDriver.Create(new RpcGenerator())
            .RunGenerators(compilation, TestContext.Current.CancellationToken)
            .GetRunResult();
        var rpc1001 = run.Diagnostics.Where(d => d.Id == "RPC1001").Select(d => d.GetMessage(CultureInfo.InvariantCulture)).ToList();

        // Either one diagnostic per method left off, or one for the whole contract when none can be carried.
        var contract = compilation.GetTypeByMetadataName("Agreement.IContract")!;
        var generatorMethods = (rpc1001.Any(m => m.StartsWith("'Agreement.IContract' has no Cap'n Proto binding", StringComparison.Ordinal))
                ? contract.GetMembers().OfType<IMethodSymbol>().Select(m => m.Name)
                : rpc1001.Select(m => m.Substring(1, m.IndexOf('\'', 1) - 1)))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(generatorMethods, analyzerMethods);
    }

    public static TheoryData<string> CapnpNumberings => new()
    {
        "[RpcMethod(0)] Task<int> AddAsync(int a); Task<int> NegateAsync(int a); [RpcMethod(1)] Task ResetAsync(); Task<int> CountAsync();",
        "Task<int> AddAsync(int a); [RpcMethod(0)] Task<int> NegateAsync(int a);",
        "[RpcMethod(0)] Task<int> AddAsync(int a); [RpcMethod(4)] Task<int> NegateAsync(int a); Task ResetAsync();",
        "[RpcMethod(2)] Task<int> AddAsync(int a); [RpcMethod(1)] Task<int> NegateAsync(int a); [RpcMethod(0)] Task ResetAsync();",
        "Task<int> AddAsync(int a); Task<int> NegateAsync(int a);",
    };

    /// <summary>
    /// RPC0029, RPC0030 and RPC0032 describe the Cap'n Proto interface the generator exports: each unpinned
    /// method's ordinal is the one RPC0030 names, RPC0029 is reported exactly when the schema's ordinals skip
    /// a number, and RPC0032 exactly when a contract that pins ordinals exports a derived (top-bit) id.
    /// </summary>
    [Theory]
    [MemberData(nameof(CapnpNumberings))]
    public async Task Cap_n_Proto_numbering_rules_agree_with_the_exported_schema(string members)
    {
        var source = AnalyzerHarness.CapabilityTransport + $$"""
            namespace Agreement
            {
                [RpcService]
                public interface IContract
                {
                    {{members}}
                }
            }
            """;
        var compilation = AnalyzerHarness.Compile(source);
        var diagnostics = await AnalyzerHarness.AnalyzeAsync(compilation);
        var schema = CSharpGeneratorDriver.Create(new RpcGenerator())
            .RunGenerators(compilation, TestContext.Current.CancellationToken)
            .GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("IContract.Capnp.g.cs", StringComparison.Ordinal)).ToString();

        var exported = System.Text.RegularExpressions.Regex.Matches(schema, @"(\w+) @(\d+) \(")
            .ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        Assert.Equal(members.Split(';').Count(m => m.Trim().Length > 0), exported.Count);
        foreach (var unpinned in diagnostics.Where(d => d.Id == DiagnosticIds.CapnpUnpinnedAmongPinned))
        {
            var message = unpinned.GetMessage(CultureInfo.InvariantCulture);
            var method = message.Substring("Method 'IContract.".Length, message.IndexOf("Async'", StringComparison.Ordinal) - "Method 'IContract.".Length);
            var ordinal = int.Parse(message.Substring(message.IndexOf(" @", StringComparison.Ordinal) + 2).Split(',')[0], CultureInfo.InvariantCulture);
            Assert.Equal(exported[char.ToLowerInvariant(method[0]) + method[1..]], ordinal);
        }

        var contiguous = exported.Values.Order().SequenceEqual(Enumerable.Range(0, exported.Count));
        Assert.Equal(!contiguous, diagnostics.Any(d => d.Id == DiagnosticIds.CapnpOrdinalGap));
        var pinsSome = members.Contains("[RpcMethod(", StringComparison.Ordinal);
        var derivedId = System.Text.RegularExpressions.Regex.Match(schema, @"interface Contract @0x([0-9a-f]{16})").Groups[1].Value[0] >= '8';
        Assert.Equal(pinsSome && derivedId, diagnostics.Any(d => d.Id == DiagnosticIds.CapnpDerivedInterfaceId));
        Assert.Equal(pinsSome && !members.Split(';').Where(m => m.Trim().Length > 0).All(m => m.Contains("[RpcMethod(", StringComparison.Ordinal)), diagnostics.Any(d => d.Id == DiagnosticIds.CapnpUnpinnedAmongPinned));
    }
}
