using System.Diagnostics;
using System.Diagnostics.Metrics;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Spans and duration histograms follow the OpenTelemetry RPC conventions.</summary>
public class TelemetryTests
{
    [Fact]
    public async Task Calls_produce_client_and_server_spans_and_duration_measurements()
    {
        const string method = "RpcGen.Transport.Message.Tests.IScenarioService/AddAsync";
        var spans = Channel.CreateUnbounded<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RpcTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == method)
                {
                    spans.Writer.TryWrite(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        var measurements = Channel.CreateUnbounded<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RpcTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            var tagMap = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                tagMap[tag.Key] = tag.Value;
            }

            if (Equals(tagMap.GetValueOrDefault("rpc.method"), "AddAsync"))
            {
                measurements.Writer.TryWrite((instrument.Name, value, tagMap));
            }
        });
        meterListener.Start();

        await using var fixture = await TransportFixture.StartAsync("tcp");
        Assert.Equal(3, await fixture.Client.GetService<IScenarioService>().AddAsync(1, 2).AsTask().WaitAsync(TransportFixture.Timeout));

        var kinds = new HashSet<ActivityKind>();
        while (kinds.Count < 2)
        {
            var span = await spans.Reader.ReadAsync().AsTask().WaitAsync(TransportFixture.Timeout);
            Assert.Equal("rpcgen", span.GetTagItem("rpc.system"));
            Assert.Equal("RpcGen.Transport.Message.Tests.IScenarioService", span.GetTagItem("rpc.service"));
            Assert.Equal("AddAsync", span.GetTagItem("rpc.method"));
            Assert.Equal("Ok", span.GetTagItem(RpcTelemetry.StatusCodeTag));
            kinds.Add(span.Kind);
        }

        Assert.Equal([ActivityKind.Server, ActivityKind.Client], kinds.Order());

        var instruments = new HashSet<string>();
        while (instruments.Count < 2)
        {
            var (instrument, value, tags) = await measurements.Reader.ReadAsync().AsTask().WaitAsync(TransportFixture.Timeout);
            Assert.True(value >= 0);
            Assert.Equal("rpcgen", tags["rpc.system"]);
            instruments.Add(instrument);
        }

        Assert.Equal(["rpc.client.duration", "rpc.server.duration"], instruments.Order());
    }
}
