using System.Globalization;
using System.Text;
using RpcGen.Benchmarks.Harness;
using RpcGen.Compression;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>Renders a <see cref="BulkReport"/> as Markdown: the transfer verdict first, then codecs.</summary>
public static class BulkReportWriter
{
    /// <summary>RpcGen's throughput over the raw socket copy's that the transport aims for.</summary>
    public const double ThroughputRatioTarget = 0.6;
    public const double TlsThroughputRatioTarget = 0.7;

    // As in the comparison report: more runnable threads than CPUs + 1 means other work shared the machine.
    private static readonly int BusyLoad = Environment.ProcessorCount + 1;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Render(BulkReport report)
    {
        var options = report.Options;
        var md = new StringBuilder();
        md.AppendLine("# RpcGen bulk transfer and compression").AppendLine();
        md.AppendLine(Invariant, $"Generated {report.Started:yyyy-MM-dd HH:mm} UTC by `{report.Command}` ({options.Mode} mode) in {ReportWriter.Duration(report.TotalSeconds)}.").AppendLine();
        md.AppendLine(Invariant, $"Machine: {report.Machine}.").AppendLine();
        md.AppendLine(Invariant, $"Load: 1-minute load average {Load(report.LoadBefore)} → {Load(report.LoadAfter)}; no CPU affinity set, client and server in one process.").AppendLine();
        if (Math.Max(report.LoadBefore, report.LoadAfter) > BusyLoad)
        {
            md.AppendLine(Invariant, $"> **Warning:** the machine was busy with other work (1-minute load average above {BusyLoad}, more than the harness itself makes); " +
                                     $"absolute figures are pessimistic and noisy, ratios between peers measured in the same run less so.").AppendLine();
        }

        RenderTransfers(md, report);
        RenderCodecs(md, report);
        RenderCompressedTransfers(md, report);
        RenderMethod(md, report);
        return md.ToString();
    }

    /// <summary>RpcGen's median MiB/s over the raw copy's for <paramref name="direction"/>, or null when either did not measure.</summary>
    public static double? RatioToRaw(BulkReport report, TransferDirection direction)
    {
        var raw = report.Transfers.FirstOrDefault(t => t.Peer == BulkSuite.RawPeer && t.Direction == direction);
        var rpc = report.Transfers.FirstOrDefault(t => t.Peer == BulkSuite.RpcGenPeer && t.Direction == direction);
        return raw is { IsMeasured: true } && rpc is { IsMeasured: true } ? rpc.MebibytesPerSecond / raw.MebibytesPerSecond : null;
    }

    private static void RenderTransfers(StringBuilder md, BulkReport report)
    {
        var options = report.Options;
        md.AppendLine(Invariant, $"## Bulk transfer over TCP: {BulkSuite.Size(options.TransferBytes)} each way, uncompressed").AppendLine();
        md.AppendLine(Invariant, $"RpcGen `Stream` methods ([`IBulkTransferService`](../Bulk/IBulkTransferService.cs)) against a raw socket copy of the same bytes in the same {BulkOptions.ChunkBytes / 1024} KiB chunks, " +
                                 $"over loopback TCP (127.0.0.1, Nagle off). MiB/s is the median of {options.TransferRuns} run(s) (slowest–fastest in brackets); " +
                                 $"alloc is process-wide (client + server) per MiB moved.").AppendLine();
        md.AppendLine("| direction | raw socket copy | RpcGen | RpcGen ÷ raw | target | verdict | RpcGen alloc/MiB |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var direction in Enum.GetValues<TransferDirection>())
        {
            var raw = report.Transfers.FirstOrDefault(t => t.Peer == BulkSuite.RawPeer && t.Direction == direction);
            var rpc = report.Transfers.FirstOrDefault(t => t.Peer == BulkSuite.RpcGenPeer && t.Direction == direction);
            var ratio = RatioToRaw(report, direction);
            md.AppendLine(Invariant, $"| {Direction(direction)} | {Throughput(raw)} | {Throughput(rpc)} | {(ratio is { } r ? ReportWriter.Ratio(r) : "—")} | ≥ {ThroughputRatioTarget:0.0}× | " +
                                     $"{(ratio is { } v ? (v >= ThroughputRatioTarget ? "met" : "**missed**") : "not measured")} | {(rpc is { IsMeasured: true } ? ReportWriter.Bytes(rpc.AllocatedBytesPerMebibyte) + " B" : "—")} |");
        }

        md.AppendLine();

        // TLS against plain RpcGen, same bytes, same run: what encryption costs a bulk transfer, with
        // the default order (ChaCha20-Poly1305 first) and with AES-128-GCM first.
        md.AppendLine("| direction | cipher order | RpcGen | RpcGen over TLS 1.3 | TLS ÷ plain | target | verdict |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var direction in Enum.GetValues<TransferDirection>())
        {
            var rpc = report.Transfers.FirstOrDefault(t => t.Peer == BulkSuite.RpcGenPeer && t.Direction == direction);
            foreach (var (peer, order) in new[] { (BulkSuite.RpcGenTlsPeer, "ChaCha20-Poly1305 first (default)"), (BulkSuite.RpcGenTlsAesPeer, "AES-128-GCM first") })
            {
                var tls = report.Transfers.FirstOrDefault(t => t.Peer == peer && t.Direction == direction);
                double? ratio = rpc is { IsMeasured: true } && tls is { IsMeasured: true } ? tls.MebibytesPerSecond / rpc.MebibytesPerSecond : null;
                md.AppendLine(Invariant, $"| {Direction(direction)} | {order} | {Throughput(rpc)} | {Throughput(tls)} | {(ratio is { } r ? ReportWriter.Ratio(r) : "—")} | ≥ {TlsThroughputRatioTarget:0.0}× | " +
                                         $"{(ratio is { } v ? (v >= TlsThroughputRatioTarget ? "met" : "**missed**") : "not measured")} |");
            }
        }

        md.AppendLine();
    }

    private static void RenderCodecs(StringBuilder md, BulkReport report)
    {
        md.AppendLine(Invariant, $"## Codecs: `RpcCodecs.TryCompress` / `Decompress`, {BulkOptions.ChunkBytes / 1024} KiB blocks").AppendLine();
        md.AppendLine(Invariant, $"Each payload is {BulkSuite.Size(report.Options.CodecPayloadBytes)}, cut into {BulkOptions.ChunkBytes / 1024} KiB blocks and compressed block by block, as the message transport " +
                                 $"compresses each chunk of a `Stream` as one frame. A block that does not shrink is counted at its raw size (the transport sends it raw). " +
                                 $"Ratio is input ÷ output; MB/s is 10^6 bytes of uncompressed data per second on one thread, median of {report.Options.CodecRuns} pass(es); " +
                                 $"decompression is timed over the compressed blocks only. The output was checked to decompress to the input.").AppendLine();
        md.AppendLine("| payload | codec | ratio | output | blocks sent raw | compress MB/s | decompress MB/s |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var c in report.Codecs)
        {
            md.AppendLine(Invariant, $"| {c.Payload} | {CodecName(c.Codec)} | {c.Ratio:0.00} | {c.OutputBytes / (double)BulkOptions.MiB:N2} MiB | {c.RawBlocks:N0} of {c.Blocks:N0} | " +
                                     $"{c.CompressMegabytesPerSecond:N0} | {(c.DecompressMegabytesPerSecond is { } d ? d.ToString("N0", Invariant) : "n/a (nothing compressed)")} |");
        }

        md.AppendLine();
    }

    private static void RenderCompressedTransfers(StringBuilder md, BulkReport report)
    {
        if (report.CompressedTransfers.Count == 0)
        {
            return;
        }

        md.AppendLine(Invariant, $"## RpcGen transfers with `RpcClientOptions.Compression`: {BulkSuite.Size(report.Options.CompressedTransferBytes)} of text-like data each way").AppendLine();
        md.AppendLine("The same service and loopback TCP, every chunk the first 64 KiB of the text-like payload; the client sets the codec (the server answers " +
                      "a call with the codec its request frame carried). MiB/s counts uncompressed bytes, so it shows what compression costs or saves " +
                      "end to end on loopback, where bandwidth is not the limit. **payload ÷ wire** is measured on a separate, untimed transfer of " +
                      $"{BulkSuite.Size(Math.Min(report.Options.CompressedTransferBytes, BulkSuite.WireSampleBytes))} each way through a byte-counting relay: the bytes that went " +
                      "the data's way, frame headers included; 1.00 means the data crossed uncompressed.").AppendLine();
        md.AppendLine("| codec | download | download payload ÷ wire | upload | upload payload ÷ wire | alloc/MiB (download, upload) |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var codec in report.CompressedTransfers.Select(t => t.Codec).Distinct())
        {
            var down = report.CompressedTransfers.FirstOrDefault(t => t.Codec == codec && t.Direction == TransferDirection.Download);
            var up = report.CompressedTransfers.FirstOrDefault(t => t.Codec == codec && t.Direction == TransferDirection.Upload);
            md.AppendLine(Invariant, $"| {CodecName(codec)} | {Throughput(down)} | {Wire(down)} | {Throughput(up)} | {Wire(up)} | {Alloc(down)}, {Alloc(up)} |");
        }

        var uncompressedDownloads = report.CompressedTransfers.Where(t => t.Codec != RpcCompression.None && t.Direction == TransferDirection.Download && t.WireRatio is < 1.05).ToList();
        if (uncompressedDownloads.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("> **Finding:** with `RpcClientOptions.Compression` set, the download stream still crossed uncompressed. The server answers with the codec of the " +
                          "request frame, and `DownloadAsync(long)`'s request is below `CompressionThresholdBytes` (1 KiB by default), so it goes out uncompressed and its " +
                          "answer — the whole stream — follows it. The download rows above therefore time an uncompressed transfer.");
        }

        md.AppendLine();
    }

    private static void RenderMethod(StringBuilder md, BulkReport report)
    {
        var options = report.Options;
        md.AppendLine("## Method").AppendLine();
        md.AppendLine("- Commands:");
        md.AppendLine("  - this report: `" + report.Command + "`");
        md.AppendLine("  - full (1 GiB each way, 5 runs): `dotnet run -c Release --project tests/RpcGen.Benchmarks -- --bulk`");
        md.AppendLine("  - quick (256 MiB each way, 1 run): `dotnet run -c Release --project tests/RpcGen.Benchmarks -- --bulk --quick`");
        md.AppendLine("  - another size: `--bytes N` (bytes, or with a K/M/G suffix for KiB/MiB/GiB), e.g. `--bulk --quick --bytes 512M`");
        md.AppendLine("- Process model: client and server of both peers run in this one process, unpinned (the scheduler spreads them over the CPUs), and talk over 127.0.0.1.");
        md.AppendLine("- RpcGen: `RpcServer`/`RpcClient` of `src/RpcGen.Transport.Message` with default options (the codec aside), the generated proxy and dispatcher; " +
                      "`Task<Stream> DownloadAsync(long bytes)` and `Task<long> UploadAsync(Stream data)`. The server's download stream serves slices of one pre-filled 64 KiB chunk " +
                      "and its upload reads to the end and drops the bytes; the client's upload stream is the same kind of repeating stream, and its download reads into one 64 KiB buffer. " +
                      "The transport cuts a `Stream` into 64 KiB chunks and sends them under its byte-credit flow control.");
        md.AppendLine("- Raw socket copy: one `Socket` pair, a 9-byte request (direction, length), then the bytes written as 64 KiB `SendAsync` calls from one pre-filled chunk and read by " +
                      "`ReceiveAsync` into one 64 KiB buffer; an upload is acknowledged with an 8-byte count. No framing, no flow control beyond TCP's.");
        md.AppendLine(Invariant, $"- Runs: one warmup transfer of a sixteenth of the size per peer and direction, then {options.TransferRuns} measured run(s) each, raw and RpcGen alternating. " +
                                 $"A full GC runs before each transfer. Every transfer checks the byte count that arrived.");
        md.AppendLine(Invariant, $"- Payloads: text-like = English words and a few protocol terms drawn from a fixed vocabulary (skewed to the common ones, seed {BulkPayloads.TextSeed}), " +
                                 $"with sentence ends and line breaks; random = `new Random({BulkPayloads.RandomSeed}).NextBytes`. Both are made before timing starts. " +
                                 $"Codec settings are the transport's: LZ4 fastest level (K4os.Compression.LZ4), zstd level 1 (ZstdSharp), Snappy (Snappier).");
    }

    private static string Throughput(TransferResult? r) => r switch
    {
        null => "—",
        { IsMeasured: false } => "failed: " + r.Failure,
        _ when r.RunSeconds.Count == 1 => $"{ReportWriter.Count(r.MebibytesPerSecond)} MiB/s",
        _ => $"{ReportWriter.Count(r.MebibytesPerSecond)} MiB/s ({ReportWriter.Count(r.SlowestMebibytesPerSecond)}–{ReportWriter.Count(r.FastestMebibytesPerSecond)})",
    };

    private static string Wire(TransferResult? r) => r?.WireRatio is { } ratio ? ratio.ToString("0.00", Invariant) : "—";

    private static string Alloc(TransferResult? r) => r is { IsMeasured: true } ? ReportWriter.Bytes(r.AllocatedBytesPerMebibyte) + " B" : "—";

    private static string Direction(TransferDirection direction) => direction == TransferDirection.Download ? "download (server → client)" : "upload (client → server)";

    private static string CodecName(RpcCompression codec) => codec switch
    {
        RpcCompression.None => "none",
        RpcCompression.Lz4 => "LZ4",
        RpcCompression.Zstd => "zstd",
        RpcCompression.Snappy => "Snappy",
        _ => codec.ToString(),
    };

    private static string Load(double load) => load < 0 ? "unknown" : load.ToString("0.00", Invariant);
}
