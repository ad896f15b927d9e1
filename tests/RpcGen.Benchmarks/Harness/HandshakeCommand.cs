using System.Diagnostics;
using System.Globalization;
using System.Text;
using RpcGen.Benchmarks.Peers.RpcGen;
using RpcGen.Transport.Message;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// <c>--handshakes [--quick] [--count N] [--out DIR]</c>: connects and disposes clients one after
/// another against one server, for plain TCP (connect + hello), TLS 1.3 and TLS 1.3 + PSK, and
/// reports connections per second. Each kind stops at N connections or 10 s, whichever comes first.
/// Writes handshakes.md.
/// </summary>
public static class HandshakeCommand
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(string[] args)
    {
        var count = BenchmarkCli.Value(args, "--count") is { } text
            ? int.Parse(text, CultureInfo.InvariantCulture)
            : args.Contains("--quick") ? 100 : 500;
        var rows = new List<(string Name, int Connections, double Seconds)>();
        foreach (var (name, peer) in new[] { ("plain TCP (connect + hello)", PeerKind.RpcGen), ("TLS 1.3", PeerKind.RpcGenTls), ("TLS 1.3 + PSK", PeerKind.RpcGenTlsPsk) })
        {
            var (connections, seconds) = await MeasureAsync(peer, count).ConfigureAwait(false);
            rows.Add((name, connections, seconds));
            Console.WriteLine($"{name}: {connections} connections in {seconds:0.00} s, {connections / seconds:0} /s");
        }

        var md = new StringBuilder();
        md.AppendLine("## Handshakes per second").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"One server on 127.0.0.1; clients connect (TCP, TLS 1.3 with mutual certificates, PSK layer, hello) and dispose one after another; up to {count} per kind or {Budget.TotalSeconds:0} s. Certificates are generated at start-up. {BenchmarkCli.DescribeMachine()}.").AppendLine();
        md.AppendLine("| link | connections | seconds | connections/s | ÷ plain |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        var plain = rows[0].Connections / rows[0].Seconds;
        foreach (var (name, connections, seconds) in rows)
        {
            var rate = connections / seconds;
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {connections} | {seconds:0.00} | {rate:0} | {ReportWriter.Ratio(rate / plain)} |");
        }

        md.AppendLine().AppendLine("Reproduce: `dotnet run -c Release --project tests/RpcGen.Benchmarks -- " + string.Join(' ', args) + "`");
        var directory = BenchmarkCli.Value(args, "--out") ?? Path.Combine(BenchmarkCli.FindProjectDirectory(), "results");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "handshakes.md");
        await File.WriteAllTextAsync(path, md.ToString()).ConfigureAwait(false);
        Console.WriteLine($"Wrote {path}.");
        return 0;
    }

    // One warm-up connection, then sequential connect + dispose until count or the budget.
    private static async Task<(int Connections, double Seconds)> MeasureAsync(PeerKind peer, int count)
    {
        await using var session = await RpcGenSession.StartAsync(peer, LinkKind.Tcp).ConfigureAwait(false);
        var tls = peer == PeerKind.RpcGen ? null : BenchTls.Client(peer == PeerKind.RpcGenTlsPsk);
        var address = session.Address;
        var clock = Stopwatch.StartNew();
        var connections = 0;
        while (connections < count && clock.Elapsed < Budget)
        {
            await using var client = await RpcClient.ConnectAsync(address, new RpcClientOptions { Tls = tls }).ConfigureAwait(false);
            connections++;
        }

        return (connections, clock.Elapsed.TotalSeconds);
    }
}
