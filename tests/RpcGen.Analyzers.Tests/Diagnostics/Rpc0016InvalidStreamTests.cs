using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0016InvalidStreamTests
{
    [Fact]
    public async Task Second_and_later_stream_parameters_are_reported()
    {
        var diagnostics = await VerifyAsync(
            """
            using System.IO;

            namespace Shop;

            [RpcService]
            public interface IFiles
            {
                Task<long> CopyAsync(Stream source, {|RPC0016:Stream target|});
                Task MergeAsync(IAsyncEnumerable<int> left, string label, {|RPC0016:IAsyncEnumerable<int> right|}, {|RPC0016:Stream extra|}, CancellationToken cancellationToken);
            }
            """);

        Assert.Equal(
            [
                "Method 'IFiles.CopyAsync' streams more than one parameter ('source' and 'target'); a call carries at most one request stream",
                "Method 'IFiles.MergeAsync' streams more than one parameter ('left' and 'right'); a call carries at most one request stream",
                "Method 'IFiles.MergeAsync' streams more than one parameter ('left' and 'extra'); a call carries at most one request stream",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Streams_on_one_way_methods_are_reported_instead_of_their_return_type()
    {
        var diagnostics = await VerifyAsync(
            """
            using System.IO;

            namespace Shop;

            [RpcService]
            public interface IAudit
            {
                [OneWay]
                ValueTask RecordAsync({|RPC0016:IAsyncEnumerable<string> lines|});

                [OneWay]
                void Upload({|RPC0016:Stream content|});

                [OneWay]
                {|RPC0016:IAsyncEnumerable<string>|} TailAsync();

                [OneWay]
                {|RPC0016:ValueTask<Stream>|} ExportAsync();
            }
            """);

        Assert.All(diagnostics, d => Assert.EndsWith(
            "is [OneWay] and cannot stream; a one-way call gets no reply and has no flow control", Message(d), StringComparison.Ordinal));
        Assert.Equal(
            ["IAudit.RecordAsync", "IAudit.Upload", "IAudit.TailAsync", "IAudit.ExportAsync"],
            diagnostics.Select(d => Message(d).Split('\'')[1]));
    }

    [Fact]
    public async Task Stream_results_no_call_can_carry_are_reported_instead_of_the_return_type()
    {
        var diagnostics = await VerifyAsync(
            """
            using System.IO;

            namespace Shop;

            [RpcService]
            public interface IFeed
            {
                {|RPC0016:Stream|} Open(string name);
                {|RPC0016:Task<IAsyncEnumerable<int>>|} CountAsync();
                {|RPC0016:ValueTask<IAsyncEnumerable<string>>|} NamesAsync();
            }
            """);

        Assert.Equal(
            [
                "Method 'IFeed.Open' returns a Stream synchronously; return Task<Stream> or ValueTask<Stream>",
                "Method 'IFeed.CountAsync' wraps IAsyncEnumerable<T> in a task; return IAsyncEnumerable<T> directly",
                "Method 'IFeed.NamesAsync' wraps IAsyncEnumerable<T> in a task; return IAsyncEnumerable<T> directly",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task A_stream_passed_by_reference_is_only_reported_as_a_by_reference_parameter()
    {
        // The generator stops at the ref; the stream after it is then the method's only one.
        var diagnostics = await VerifyAsync(
            """
            using System.IO;

            namespace Shop;

            [RpcService]
            public interface IFiles
            {
                Task<long> CopyAsync({|RPC0004:ref Stream source|}, Stream target);
            }
            """);

        Assert.Equal("RPC0004", Assert.Single(diagnostics).Id);
    }

    [Fact]
    public async Task Every_streaming_shape_the_generator_supports_is_not_reported()
    {
        await VerifyCleanAsync(
            """
            using System.IO;

            namespace Shop;

            public sealed record Reading(string Sensor, double Value, DateTimeOffset At);

            [RpcService]
            public interface ITelemetry
            {
                IAsyncEnumerable<Reading> WatchAsync(string sensor, CancellationToken cancellationToken = default);
                Task<int> RecordAsync(string batch, IAsyncEnumerable<Reading?> readings, CancellationToken cancellationToken = default);
                ValueTask DrainAsync(IAsyncEnumerable<string> lines);
                IAsyncEnumerable<Reading> CalibrateAsync(IAsyncEnumerable<Reading> raw, double offset);
                Task<Stream> DownloadAsync(string name);
                ValueTask<Stream> ExportAsync();
                Task<long> UploadAsync(string name, Stream content, CancellationToken cancellationToken = default);
                IAsyncEnumerable<long> ChecksumsAsync(Stream content);
                ValueTask<Stream> CompressAsync(Stream content);
            }
            """);
    }
}
