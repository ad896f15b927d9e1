using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Nerdbank.Streams;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Peers.RpcGen;
using RpcGen.Links;
using RpcGen.Transport.Flow;
using RpcGen.Transport.Message;
using RpcGen.Transport.SharedMemory;

namespace RpcGen.Benchmarks.Flow;

/// <summary>What one <c>--flow</c> run measures, and how much.</summary>
/// <param name="TransferBytes">Bytes per throughput cell (split across channels for the 16-way cells).</param>
/// <param name="LatencySamples">Samples per latency cell.</param>
/// <param name="CallersSeconds">How long the 64-caller cells run.</param>
/// <param name="MaxCallsPerCaller">Each of the 64 callers stops after this many calls even if time is left.</param>
public sealed record FlowOptions(long TransferBytes, int LatencySamples, double CallersSeconds, long MaxCallsPerCaller = 1_000_000)
{
    public static FlowOptions Full { get; } = new(1024L * 1024 * 1024, 5000, 5);

    public static FlowOptions Quick { get; } = new(256L * 1024 * 1024, 1000, 2);
}

/// <summary>One measured cell.</summary>
public sealed record FlowCell(string Name, double Value, string Unit);

/// <summary>
/// The flow transport against raw TCP, Nerdbank.Streams' MultiplexingStream over the same kind of
/// socket, and the message transport directly, all in one run and one process on loopback.
/// Every cell checks that every byte arrived; timing is wall-clock per cell.
/// </summary>
public static class FlowSuite
{
    private const int Chunk = 64 * 1024;
    private const int Ways = 16;

    public static async Task<List<FlowCell>> RunAsync(FlowOptions options, TextWriter log)
    {
        FlowLinks.Register();
        var cells = new List<FlowCell>();
        async Task Add(string name, Func<Task<double>> measure, string unit)
        {
            var value = await measure().ConfigureAwait(false);
            cells.Add(new FlowCell(name, value, unit));
            log.WriteLine($"{name,-44} {value,12:F1} {unit}");
        }

        var bytes = options.TransferBytes;
        await Add("raw TCP, 1 stream", () => RawTcpAsync(bytes), "MiB/s").ConfigureAwait(false);
        await Add("flow, 1 flow", () => FlowsAsync(bytes, 1), "MiB/s").ConfigureAwait(false);
        await Add("flow, 16 flows aggregate", () => FlowsAsync(bytes, Ways), "MiB/s").ConfigureAwait(false);
        await Add("MultiplexingStream, 1 channel", () => MultiplexingAsync(bytes, 1), "MiB/s").ConfigureAwait(false);
        await Add("MultiplexingStream, 16 channels aggregate", () => MultiplexingAsync(bytes, Ways), "MiB/s").ConfigureAwait(false);
        await Add("flow open to first byte back, p50", () => OpenToFirstByteAsync(options.LatencySamples), "µs").ConfigureAwait(false);
        await Add("flow ping round trip, p50", () => PingAsync(options.LatencySamples), "µs").ConfigureAwait(false);
        await Add("unary over message transport (tcp), p50", () => UnaryAsync("tcp://127.0.0.1:0", options.LatencySamples), "µs").ConfigureAwait(false);
        await Add("unary over a flow (flow+tcp), p50", () => UnaryAsync("flow+tcp://127.0.0.1:0", options.LatencySamples), "µs").ConfigureAwait(false);
        await Add("64 callers, message transport (tcp)", () => CallersAsync("tcp://127.0.0.1:0", options), "calls/s").ConfigureAwait(false);
        await Add("64 callers, over a flow (flow+tcp)", () => CallersAsync("flow+tcp://127.0.0.1:0", options), "calls/s").ConfigureAwait(false);
        if (OperatingSystem.IsLinux())
        {
            // Flows over a shared-memory link against that link direct (both ends in this process).
            SharedMemoryLinks.Register();
            await Add("unary over shared memory (shm), p50", () => UnaryAsync(ShmAddress("shm:"), options.LatencySamples), "µs").ConfigureAwait(false);
            await Add("unary over a flow on shm (flow+shm), p50", () => UnaryAsync(ShmAddress("flow+shm:"), options.LatencySamples), "µs").ConfigureAwait(false);
        }

        return cells;
    }

    private static string ShmAddress(string scheme) => scheme + Path.Combine(Path.GetTempPath(), $"rpcgen-flow-bench-{Guid.NewGuid():N}.sock");

    // ─── Throughput ───────────────────────────────────────────────────────

    private static async Task<(Socket Client, Socket Server)> SocketPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var accepting = listener.AcceptAsync();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(listener.LocalEndPoint!).ConfigureAwait(false);
        var server = await accepting.ConfigureAwait(false);
        server.NoDelay = true;
        return (client, server);
    }

    private static async Task<double> RawTcpAsync(long bytes)
    {
        var (client, server) = await SocketPairAsync().ConfigureAwait(false);
        using (client)
        using (server)
        {
            await using var sender = new NetworkStream(client, ownsSocket: false);
            await using var receiver = new NetworkStream(server, ownsSocket: false);
            return await TimeAsync(bytes, [(sender, receiver, bytes)]).ConfigureAwait(false);
        }
    }

    private static async Task<double> FlowsAsync(long bytes, int ways)
    {
        var (client, server) = await LinkPairAsync().ConfigureAwait(false);
        var accepting = FlowConnection.AcceptAsync(server);
        await using var dialer = await FlowConnection.ConnectAsync(client).ConfigureAwait(false);
        await using var acceptor = await accepting.ConfigureAwait(false);
        var pairs = new List<(Stream, Stream, long)>();
        for (var i = 0; i < ways; i++)
        {
            var flow = dialer.OpenFlow();
            await flow.Output.WriteAsync(new byte[] { 1 }).ConfigureAwait(false);
            var accepted = await acceptor.AcceptFlowAsync().ConfigureAwait(false);
            var first = await accepted.Input.ReadAsync().ConfigureAwait(false);
            accepted.Input.AdvanceTo(first.Buffer.GetPosition(1));
            pairs.Add((flow.AsStream(), accepted.AsStream(), bytes / ways));
        }

        return await TimeAsync(bytes / ways * ways, pairs).ConfigureAwait(false);
    }

    private static async Task<double> MultiplexingAsync(long bytes, int ways)
    {
        var (client, server) = await SocketPairAsync().ConfigureAwait(false);
        using (client)
        using (server)
        {
            var serving = MultiplexingStream.CreateAsync(new NetworkStream(server, ownsSocket: false));
            await using var near = await MultiplexingStream.CreateAsync(new NetworkStream(client, ownsSocket: false)).ConfigureAwait(false);
            await using var far = await serving.ConfigureAwait(false);
            var pairs = new List<(Stream, Stream, long)>();
            for (var i = 0; i < ways; i++)
            {
                var accepting = far.AcceptChannelAsync("c" + i);
                var offered = await near.OfferChannelAsync("c" + i).ConfigureAwait(false);
                var accepted = await accepting.ConfigureAwait(false);
                pairs.Add((offered.AsStream(), accepted.AsStream(), bytes / ways));
            }

            return await TimeAsync(bytes / ways * ways, pairs).ConfigureAwait(false);
        }
    }

    // Every sender writes its share in 64 KiB chunks and ends; every receiver drains to the end.
    private static async Task<double> TimeAsync(long total, List<(Stream Sender, Stream Receiver, long Bytes)> pairs)
    {
        var chunk = BenchData.CreateChunk(Chunk);
        var watch = Stopwatch.StartNew();
        var tasks = pairs.Select(async pair =>
        {
            var sending = Task.Run(async () =>
            {
                for (var sent = 0L; sent < pair.Bytes; sent += Chunk)
                {
                    await pair.Sender.WriteAsync(chunk.AsMemory(0, (int)Math.Min(Chunk, pair.Bytes - sent))).ConfigureAwait(false);
                }

                await pair.Sender.FlushAsync().ConfigureAwait(false);
            });
            var buffer = new byte[Chunk];
            var received = 0L;
            while (received < pair.Bytes)
            {
                var read = await pair.Receiver.ReadAsync(buffer).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                received += read;
            }

            await sending.ConfigureAwait(false);
            return received;
        }).ToArray();
        var counts = await Task.WhenAll(tasks).ConfigureAwait(false);
        var seconds = watch.Elapsed.TotalSeconds;
        if (counts.Sum() != total)
        {
            throw new InvalidOperationException($"Received {counts.Sum()} of {total} bytes.");
        }

        return total / 1048576.0 / seconds;
    }

    private static async Task<(RpcLink Client, RpcLink Server)> LinkPairAsync()
    {
        await using var listener = RpcLinks.Listen("tcp://127.0.0.1:0");
        var accept = listener.AcceptAsync().AsTask();
        var client = await RpcLinks.ConnectAsync(listener.Address).ConfigureAwait(false);
        return (client, (await accept.ConfigureAwait(false))!);
    }

    // ─── Latency ──────────────────────────────────────────────────────────

    private static async Task<double> OpenToFirstByteAsync(int samples)
    {
        var (client, server) = await LinkPairAsync().ConfigureAwait(false);
        var accepting = FlowConnection.AcceptAsync(server);
        await using var dialer = await FlowConnection.ConnectAsync(client).ConfigureAwait(false);
        await using var acceptor = await accepting.ConfigureAwait(false);
        var echo = Task.Run(async () =>
        {
            for (var i = 0; i < samples + 100; i++)
            {
                var flow = await acceptor.AcceptFlowAsync().ConfigureAwait(false);
                var message = await flow.ReadMessageAsync().ConfigureAwait(false);
                await flow.WriteMessageAndCloseAsync([message!]).ConfigureAwait(false);
                await flow.DisposeAsync().ConfigureAwait(false);
            }
        });
        var times = new double[samples];
        byte[] one = [42];
        for (var i = 0; i < samples + 100; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var flow = dialer.OpenFlow();
            await flow.WriteMessageAndCloseAsync([one]).ConfigureAwait(false);
            _ = await flow.ReadMessageAsync().ConfigureAwait(false);
            if (i >= 100)
            {
                times[i - 100] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }

            await flow.DisposeAsync().ConfigureAwait(false);
        }

        await echo.ConfigureAwait(false);
        return Median(times);
    }

    private static async Task<double> PingAsync(int samples)
    {
        var (client, server) = await LinkPairAsync().ConfigureAwait(false);
        var accepting = FlowConnection.AcceptAsync(server);
        await using var dialer = await FlowConnection.ConnectAsync(client).ConfigureAwait(false);
        await using var acceptor = await accepting.ConfigureAwait(false);
        var times = new double[samples];
        for (var i = 0; i < samples + 100; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await dialer.PingAsync().ConfigureAwait(false);
            if (i >= 100)
            {
                times[i - 100] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }
        }

        return Median(times);
    }

    private static async Task<double> UnaryAsync(string listen, int samples)
    {
        await using var server = new RpcServer();
        server.AddService<IBenchService>(new BenchService());
        await server.StartAsync(listen).ConfigureAwait(false);
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).ConfigureAwait(false);
        var service = client.GetService<IBenchService>();
        var request = BenchData.CreateSmall();
        var times = new double[samples];
        for (var i = 0; i < samples + 500; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await service.EchoSmallAsync(request).ConfigureAwait(false);
            if (i >= 500)
            {
                times[i - 500] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }
        }

        return Median(times);
    }

    private static async Task<double> CallersAsync(string listen, FlowOptions options)
    {
        await using var server = new RpcServer();
        server.AddService<IBenchService>(new BenchService());
        await server.StartAsync(listen).ConfigureAwait(false);
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).ConfigureAwait(false);
        var service = client.GetService<IBenchService>();
        var request = BenchData.CreateSmall();
        for (var i = 0; i < 1000; i++)
        {
            await service.EchoSmallAsync(request).ConfigureAwait(false);
        }

        var stopAt = Stopwatch.GetTimestamp() + (long)(options.CallersSeconds * Stopwatch.Frequency);
        var watch = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            var calls = 0L;
            while (Stopwatch.GetTimestamp() < stopAt && calls < options.MaxCallsPerCaller)
            {
                await service.EchoSmallAsync(request).ConfigureAwait(false);
                calls++;
            }

            return calls;
        })).ConfigureAwait(false);
        return counts.Sum() / watch.Elapsed.TotalSeconds;
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return values[values.Length / 2];
    }
}
