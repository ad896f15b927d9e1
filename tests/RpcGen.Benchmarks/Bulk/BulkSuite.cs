using System.Diagnostics;
using System.Globalization;
using RpcGen.Benchmarks.Harness;
using RpcGen.Compression;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>Runs the bulk transfers and the codec passes of a <c>--bulk</c> run, in this process.</summary>
public static class BulkSuite
{
    public const string RawPeer = "raw socket copy";
    public const string RpcGenPeer = "RpcGen";
    public const string RpcGenTlsPeer = "RpcGen over TLS 1.3";
    public const string RpcGenTlsAesPeer = "RpcGen over TLS 1.3, AES-128-GCM first";
    public const string RandomData = "random";
    public const string TextData = "text-like";

    /// <summary>The most a wire-byte sample moves each way.</summary>
    public const long WireSampleBytes = 16 * BulkOptions.MiB;

    public static readonly RpcCompression[] Codecs = [RpcCompression.Lz4, RpcCompression.Zstd, RpcCompression.Snappy];

    public static async Task<BulkReport> RunAsync(BulkOptions options, string command, TextWriter log)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var loadBefore = BenchmarkCli.LoadAverage();

        log.WriteLine($"== bulk transfer over TCP, {Size(options.TransferBytes)} each way, {options.TransferRuns} run(s) per peer and direction");
        var transfers = await RunUncompressedAsync(options, log).ConfigureAwait(false);

        log.WriteLine("== codecs, 64 KiB blocks");
        var text = BulkPayloads.CreateText(options.CodecPayloadBytes);
        var random = BulkPayloads.CreateRandom(options.CodecPayloadBytes);
        var codecs = new List<CodecResult>();
        foreach (var (name, payload) in new[] { (TextData, text), (RandomData, random) })
        {
            foreach (var codec in Codecs)
            {
                BulkMath.Settle();
                var result = CodecBenchmark.Run(name, payload, codec, options.CodecRuns);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-10} {codec,-6} ratio {result.Ratio,6:0.00}  compress {result.CompressMegabytesPerSecond,8:N0} MB/s  decompress {result.DecompressMegabytesPerSecond?.ToString("N0", CultureInfo.InvariantCulture) ?? "n/a",8} MB/s"));
                codecs.Add(result);
            }
        }

        var compressed = new List<TransferResult>();
        if (options.CompressedTransferBytes > 0)
        {
            log.WriteLine($"== RpcGen transfers of text-like data with RpcClientOptions.Compression, {Size(options.CompressedTransferBytes)} each way");
            var textChunk = text.AsSpan(0, Math.Min(text.Length, BulkOptions.ChunkBytes)).ToArray();
            foreach (var codec in (RpcCompression[])[RpcCompression.None, .. Codecs])
            {
                compressed.AddRange(await RunCompressedAsync(options, textChunk, codec, log).ConfigureAwait(false));
            }
        }

        return new BulkReport
        {
            Command = command,
            Options = options,
            Started = started,
            TotalSeconds = clock.Elapsed.TotalSeconds,
            Machine = BenchmarkCli.DescribeMachine(),
            LoadBefore = loadBefore,
            LoadAfter = BenchmarkCli.LoadAverage(),
            Transfers = transfers,
            CompressedTransfers = compressed,
            Codecs = codecs,
        };
    }

    private static async Task<List<TransferResult>> RunUncompressedAsync(BulkOptions options, TextWriter log)
    {
        var chunk = new byte[BulkOptions.ChunkBytes];
        new Random(99).NextBytes(chunk);
        var results = new List<TransferResult>();
        IBulkPeer? raw = null;
        IBulkPeer? rpc = null;
        IBulkPeer? rpcTls = null;
        IBulkPeer? rpcTlsAes = null;
        try
        {
            raw = await RawSocketCopy.StartAsync(chunk).ConfigureAwait(false);
            rpc = await RpcGenBulkPeer.StartAsync(chunk, RpcCompression.None).ConfigureAwait(false);
            rpcTls = await RpcGenBulkPeer.StartAsync(chunk, RpcCompression.None, tls: true).ConfigureAwait(false);
            rpcTlsAes = await RpcGenBulkPeer.StartAsync(chunk, RpcCompression.None, tls: true, aesFirst: true).ConfigureAwait(false);
            var peers = new[] { (RawPeer, raw), (RpcGenPeer, rpc), (RpcGenTlsPeer, rpcTls), (RpcGenTlsAesPeer, rpcTlsAes) };
            foreach (var direction in Enum.GetValues<TransferDirection>())
            {
                var cells = peers.Select(p => new TransferResult { Peer = p.Item1, Direction = direction, Data = RandomData, BytesPerRun = options.TransferBytes }).ToArray();
                // Warm up both, then alternate their runs so a change in machine load hits both alike.
                for (var i = 0; i < peers.Length; i++)
                {
                    await RunOnceAsync(peers[i].Item2, cells[i], Math.Max(1, options.TransferBytes / 16), options, measure: false).ConfigureAwait(false);
                }

                for (var run = 0; run < options.TransferRuns; run++)
                {
                    for (var i = 0; i < peers.Length; i++)
                    {
                        await RunOnceAsync(peers[i].Item2, cells[i], options.TransferBytes, options, measure: true).ConfigureAwait(false);
                    }
                }

                foreach (var cell in cells)
                {
                    log.WriteLine(Progress(cell));
                }

                results.AddRange(cells);
            }
        }
        finally
        {
            if (rpcTlsAes is not null)
            {
                await rpcTlsAes.DisposeAsync().ConfigureAwait(false);
            }

            if (rpcTls is not null)
            {
                await rpcTls.DisposeAsync().ConfigureAwait(false);
            }

            if (rpc is not null)
            {
                await rpc.DisposeAsync().ConfigureAwait(false);
            }

            if (raw is not null)
            {
                await raw.DisposeAsync().ConfigureAwait(false);
            }
        }

        return results;
    }

    private static async Task<List<TransferResult>> RunCompressedAsync(BulkOptions options, byte[] textChunk, RpcCompression codec, TextWriter log)
    {
        var results = new List<TransferResult>();
        var peer = await RpcGenBulkPeer.StartAsync(textChunk, codec).ConfigureAwait(false);
        await using (peer.ConfigureAwait(false))
        {
            foreach (var direction in Enum.GetValues<TransferDirection>())
            {
                var cell = new TransferResult { Peer = RpcGenPeer, Direction = direction, Codec = codec, Data = TextData, BytesPerRun = options.CompressedTransferBytes };
                await RunOnceAsync(peer, cell, Math.Max(1, options.CompressedTransferBytes / 16), options, measure: false).ConfigureAwait(false);
                for (var run = 0; run < options.TransferRuns; run++)
                {
                    await RunOnceAsync(peer, cell, options.CompressedTransferBytes, options, measure: true).ConfigureAwait(false);
                }

                results.Add(cell);
            }
        }

        await SampleWireBytesAsync(options, textChunk, codec, results).ConfigureAwait(false);
        foreach (var cell in results)
        {
            log.WriteLine(Progress(cell));
        }

        return results;
    }

    /// <summary>Moves a sample each way through a <see cref="CountingRelay"/> (untimed) to see what reached the wire.</summary>
    private static async Task SampleWireBytesAsync(BulkOptions options, byte[] textChunk, RpcCompression codec, List<TransferResult> cells)
    {
        var sample = Math.Min(options.CompressedTransferBytes, WireSampleBytes);
        var peer = await RpcGenBulkPeer.StartAsync(textChunk, codec, throughRelay: true).ConfigureAwait(false);
        await using (peer.ConfigureAwait(false))
        {
            var relay = peer.Relay!;
            foreach (var cell in cells.Where(c => c.IsMeasured))
            {
                var download = cell.Direction == TransferDirection.Download;
                var before = download ? relay.BytesFromTarget : relay.BytesTowardTarget;
                var moved = await (download ? peer.DownloadAsync(sample) : peer.UploadAsync(sample)).WaitAsync(options.Timeout).ConfigureAwait(false);
                if (moved == sample)
                {
                    cell.WireSampleBytes = sample;
                    cell.WireBytes = (download ? relay.BytesFromTarget : relay.BytesTowardTarget) - before;
                }
            }
        }
    }

    /// <summary>One transfer; a measured one adds its time and allocations to <paramref name="cell"/>. A failure marks the cell and skips its later runs.</summary>
    private static async Task RunOnceAsync(IBulkPeer peer, TransferResult cell, long bytes, BulkOptions options, bool measure)
    {
        if (cell.Failure is not null)
        {
            return;
        }

        BulkMath.Settle();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var transfer = cell.Direction == TransferDirection.Download ? peer.DownloadAsync(bytes) : peer.UploadAsync(bytes);
            var moved = await transfer.WaitAsync(options.Timeout).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (moved != bytes)
            {
                cell.Failure = $"moved {moved:N0} bytes, not {bytes:N0}";
                return;
            }

            if (measure)
            {
                cell.RunSeconds.Add(elapsed.TotalSeconds);
                cell.AllocatedBytes += GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            }
        }
        catch (Exception ex) when (ex is TimeoutException or RpcException or IOException or System.Net.Sockets.SocketException or InvalidDataException)
        {
            cell.Failure = $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    private static string Progress(TransferResult r)
    {
        var head = $"{r.Peer,-16} {r.Direction,-8} {(r.Codec == RpcCompression.None ? "none" : r.Codec.ToString()),-6} {r.Data,-10}";
        return r.IsMeasured
            ? head + string.Create(CultureInfo.InvariantCulture, $" {r.MebibytesPerSecond,8:N0} MiB/s  ({r.RunSeconds.Count} run(s), {r.AllocatedBytesPerMebibyte,8:N0} B allocated per MiB)") +
              (r.WireRatio is { } wire ? string.Create(CultureInfo.InvariantCulture, $"  payload/wire {wire:0.00}") : string.Empty)
            : head + " failed: " + r.Failure;
    }

    public static string Size(long bytes) => bytes % BulkOptions.MiB == 0
        ? (bytes >= 1024 * BulkOptions.MiB && bytes % (1024 * BulkOptions.MiB) == 0 ? $"{bytes / (1024 * BulkOptions.MiB)} GiB" : $"{bytes / BulkOptions.MiB} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes");
}
