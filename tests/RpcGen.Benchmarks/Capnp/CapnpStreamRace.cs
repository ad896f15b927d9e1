using System.Diagnostics;
using System.Text;
using RpcGen.Benchmarks.Bulk;
using RpcGen.Benchmarks.Harness;
using RpcGen.Capnp;
using RpcGen.Transport.Message;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>
/// <c>--capnp --stream-mib N [--links tcp,uds] [--rounds R] [--stream-window-kib W]</c>: downloads N MiB through the same
/// <see cref="IBulkTransferService.DownloadAsync"/> over the message transport and over Cap'n Proto (a
/// <c>-&gt; stream</c> byte sink), alternating R rounds per link in one process, and writes
/// results/capnp-streams.md with the best round of each and their ratio.
/// </summary>
public static class CapnpStreamRace
{
    /// <summary>The report's file name in the results directory.</summary>
    public const string FileName = "capnp-streams.md";

    /// <summary>Runs the race; returns 0 when every download moved every byte.</summary>
    public static async Task<int> RunAsync(string[] args, long mebibytes)
    {
        var bytes = mebibytes << 20;
        var rounds = BenchmarkCli.Value(args, "--rounds") is { } r ? int.Parse(r, System.Globalization.CultureInfo.InvariantCulture) : 3;
        var links = BenchmarkCli.Value(args, "--links") is { } names
            ? names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BenchmarkCli.ParseLink).ToList()
            : [LinkKind.Tcp, LinkKind.Uds];
        var chunk = BulkPayloads.CreateText(BulkOptions.ChunkBytes);
        var window = BenchmarkCli.Value(args, "--stream-window-kib") is { } kib
            ? int.Parse(kib, System.Globalization.CultureInfo.InvariantCulture) * 1024
            : CapnpConnectionOptions.DefaultStreamWindowBytes;
        var md = new StringBuilder();
        md.AppendLine("# Cap'n Proto streaming vs the message transport's download");
        md.AppendLine();
        md.AppendLine($"{mebibytes} MiB through `IBulkTransferService.DownloadAsync` (`Task<Stream>`), the same generated contract and service over both transports, client and server in one process, best of {rounds} alternating rounds.");
        md.AppendLine();
        md.AppendLine($"- command: `dotnet run -c Release --project tests/RpcGen.Benchmarks -- {string.Join(' ', args)}`");
        md.AppendLine($"- machine: {BenchmarkCli.DescribeMachine()}");
        md.AppendLine($"- Cap'n Proto stream window: {window / 1024} KiB (`CapnpConnectionOptions.StreamWindowBytes`)");
        md.AppendLine($"- load before: `{Uptime()}`");
        md.AppendLine();
        md.AppendLine("| link | message transport MiB/s | Cap'n Proto stream MiB/s | Cap'n Proto / message |");
        md.AppendLine("|---|---:|---:|---:|");
        var complete = true;
        foreach (var link in links)
        {
            double bestMessage = 0, bestCapnp = 0;
            for (var round = 0; round < rounds; round++)
            {
                var (message, messageOk) = await MessageAsync(link, chunk, bytes).ConfigureAwait(false);
                var (capnp, capnpOk) = await CapnpAsync(link, chunk, bytes, window).ConfigureAwait(false);
                complete &= messageOk && capnpOk;
                bestMessage = Math.Max(bestMessage, message);
                bestCapnp = Math.Max(bestCapnp, capnp);
                Console.WriteLine($"{link} round {round + 1}: message {message:F0} MiB/s, capnp {capnp:F0} MiB/s");
            }

            md.AppendLine($"| {link} | {bestMessage:F0} | {bestCapnp:F0} | {bestCapnp / bestMessage:F2}× |");
        }

        md.AppendLine();
        md.AppendLine($"- load after: `{Uptime()}`");
        var directory = BenchmarkCli.Value(args, "--out") ?? Path.Combine(BenchmarkCli.FindProjectDirectory(), "results");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        await File.WriteAllTextAsync(path, md.ToString()).ConfigureAwait(false);
        Console.WriteLine(md.ToString());
        Console.WriteLine($"Wrote {path}.");
        return complete ? 0 : 1;
    }

    private static async Task<(double MiBps, bool Complete)> MessageAsync(LinkKind link, byte[] chunk, long bytes)
    {
        await using var server = new RpcServer(new RpcServerOptions());
        server.AddService<IBulkTransferService>(new BulkTransferService(chunk));
        await server.StartAsync(Address(link)).ConfigureAwait(false);
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0], new RpcClientOptions()).ConfigureAwait(false);
        return await TimeAsync(client.GetService<IBulkTransferService>(), bytes).ConfigureAwait(false);
    }

    private static async Task<(double MiBps, bool Complete)> CapnpAsync(LinkKind link, byte[] chunk, long bytes, int window)
    {
        var options = new CapnpConnectionOptions { StreamWindowBytes = window };
        await using var server = CapnpServer.Listen<IBulkTransferService>(Address(link), new BulkTransferService(chunk), options);
        await using var connection = await CapnpConnection.ConnectAsync(server.Address).ConfigureAwait(false);
        using var service = (IDisposable)connection.Bootstrap<IBulkTransferService>();
        return await TimeAsync((IBulkTransferService)service, bytes).ConfigureAwait(false);
    }

    private static async Task<(double MiBps, bool Complete)> TimeAsync(IBulkTransferService service, long bytes)
    {
        var buffer = new byte[BulkOptions.ChunkBytes];
        var clock = Stopwatch.StartNew();
        long received = 0;
        var stream = await service.DownloadAsync(bytes).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            int read;
            while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                received += read;
            }
        }

        return (received / (1024.0 * 1024.0) / clock.Elapsed.TotalSeconds, received == bytes);
    }

    private static string Address(LinkKind link) => link == LinkKind.Uds ? "unix:" + Loopback.NewUnixSocketPath("capnp-stream") : "tcp://127.0.0.1:0";

    private static string Uptime()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
