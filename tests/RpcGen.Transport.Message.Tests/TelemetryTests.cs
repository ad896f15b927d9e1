using System.Diagnostics;
using System.Diagnostics.Metrics;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// Spans and duration histograms follow the OpenTelemetry RPC conventions. Listeners are process-wide
/// and other tests call in parallel, so spans are kept by the trace id of a root this test starts, and
/// measurements by a service only this class calls (<see cref="ITelemetryProbe"/>).
/// </summary>
public class TelemetryTests
{
    private const string Service = "RpcGen.Transport.Message.Tests.ITelemetryProbe";
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Fact]
    public async Task Calls_produce_client_and_server_spans_and_duration_measurements()
    {
        using var spans = new SpanCollector();
        var measurements = Channel.CreateUnbounded<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var meterListener = ListenToProbeMeasurements(measurements.Writer);

        await using var server = new RpcServer();
        server.AddService<ITelemetryProbe>(new TelemetryProbe());
        await server.StartAsync("tcp://127.0.0.1:0");
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(Timeout);
        using (spans.StartRoot("caller"))
        {
            Assert.Equal(3, await client.GetService<ITelemetryProbe>().AddAsync(1, 2).WaitAsync(Timeout));
        }

        var all = await spans.WaitForAsync(2, Timeout);
        var port = RpcAddress.Parse(server.Addresses[0]).Port;
        foreach (var span in all)
        {
            Assert.Equal($"{Service}/AddAsync", span.OperationName);
            Assert.Equal("rpcgen", span.GetTagItem("rpc.system"));
            Assert.Equal(Service, span.GetTagItem("rpc.service"));
            Assert.Equal("AddAsync", span.GetTagItem("rpc.method"));
            Assert.Equal("tcp", span.GetTagItem("network.transport"));
            Assert.Equal("Ok", span.GetTagItem(RpcTelemetry.StatusCodeTag));
            Assert.Equal(ActivityStatusCode.Ok, span.Status);
        }

        var clientSpan = Assert.Single(all, s => s.Kind == ActivityKind.Client);
        Assert.Equal("127.0.0.1", clientSpan.GetTagItem("server.address"));
        Assert.Equal(port, clientSpan.GetTagItem("server.port"));
        var serverSpan = Assert.Single(all, s => s.Kind == ActivityKind.Server);
        Assert.Equal("127.0.0.1", serverSpan.GetTagItem("client.address"));

        var instruments = new HashSet<string>();
        while (instruments.Count < 2)
        {
            var (instrument, value, tags) = await measurements.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
            Assert.True(value >= 0);
            Assert.Equal("rpcgen", tags["rpc.system"]);
            Assert.Equal("AddAsync", tags["rpc.method"]);
            Assert.Equal("Ok", tags[RpcTelemetry.StatusCodeTag]);
            instruments.Add(instrument);
        }

        Assert.Equal(["rpc.client.duration", "rpc.server.duration"], instruments.Order());
    }

    [Fact]
    public async Task A_failed_call_marks_both_spans_with_its_status()
    {
        using var spans = new SpanCollector();
        await using var server = new RpcServer();
        server.AddService<ITelemetryProbe>(new TelemetryProbe());
        await server.StartAsync("tcp://127.0.0.1:0");
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(Timeout);
        using (spans.StartRoot("caller"))
        {
            await Assert.ThrowsAsync<RpcException>(() => client.GetService<ITelemetryProbe>().FailAsync().WaitAsync(Timeout));
        }

        foreach (var span in await spans.WaitForAsync(2, Timeout))
        {
            Assert.Equal(ActivityStatusCode.Error, span.Status);
            Assert.Equal("Overloaded", span.GetTagItem(RpcTelemetry.StatusCodeTag));
            Assert.Equal("Overloaded", span.GetTagItem(RpcTelemetry.ErrorTypeTag));
        }
    }

    private static MeterListener ListenToProbeMeasurements(ChannelWriter<(string Instrument, double Value, Dictionary<string, object?> Tags)> writer)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RpcTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            var tagMap = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                tagMap[tag.Key] = tag.Value;
            }

            if (Equals(tagMap.GetValueOrDefault("rpc.service"), Service))
            {
                writer.TryWrite((instrument.Name, value, tagMap));
            }
        });
        listener.Start();
        return listener;
    }
}
