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
}
