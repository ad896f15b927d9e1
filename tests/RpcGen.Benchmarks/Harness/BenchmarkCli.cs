using System.Diagnostics;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using RpcGen.Benchmarks.Analyzers;
using RpcGen.Benchmarks.Bdn;
using RpcGen.Benchmarks.Bulk;
using RpcGen.Benchmarks.Capnp;

namespace RpcGen.Benchmarks.Harness;

/// <summary>The command line: <c>--compare [--quick]</c> for the side-by-side report, <c>--bulk [--quick]</c> for bulk transfer and codecs, <c>--capnp [--quick]</c> for Cap'n Proto, <c>--analyzers</c> for analyzer time per interface, <c>--bdn [--quick]</c> for BenchmarkDotNet.</summary>
public static class BenchmarkCli
{
    private const string Usage = """
        RpcGen benchmarks

          dotnet run -c Release --project tests/RpcGen.Benchmarks -- --compare [--quick] [options]
              Runs every peer (raw floor, RpcGen, grpc-dotnet, StreamJsonRpc) over loopback TCP and a Unix
              socket, once pinned to CPU 0 (the harness re-runs itself under `taskset -c 0`) and once
              unpinned, and writes results/latest.md and results/latest.svg. --quick takes under 3 minutes.

              --affinity both|pinned|unpinned   which passes to run (default: both; pinned is the headline)
              --peers raw,raw-coalesced,rpcgen,grpc,streamjsonrpc
              --links tcp,uds
              --workloads empty,small,600B,64KiB,stream,upload
              --callers 1,64                    concurrent callers per connection for unary cells
              --out DIR                         where latest.md/latest.svg go (default: the project's results/)
              --jit settled|default             settled (default): restart with DOTNET_TC_CallCountingDelayMs=0;
                                                default: the runtime's tiering delay, as users run (same warmup)

          dotnet run -c Release --project tests/RpcGen.Benchmarks -- --bulk [--quick] [--bytes N]
              1 GiB download and upload over TCP (quick: 256 MiB; --bytes N, K/M/G suffixes allowed) through RpcGen
              Stream methods against a raw socket copy of the same bytes, plus LZ4/zstd/Snappy ratio and speed on
              text-like and random payloads; writes results/bulk.md. Full run about a minute and a half.

          dotnet run -c Release --project tests/RpcGen.Benchmarks -- --capnp [--quick] [--affinity both|pinned|unpinned] [--links tcp,uds] [--out DIR]
              Cap'n Proto over TCP and a Unix socket: the C# capability transport against the message transport
              (echo of a small struct), a three-call chain pipelined against awaited, and the C# client against
              the C++ client (EzRpcClient) calling a C++ server (built with capnp and g++ at run time); pinned and
              unpinned passes as for --compare. Writes results/capnp.md. --quick takes about half a minute.

          dotnet run -c Release --project tests/RpcGen.Benchmarks -- --shm [--quick] [--spin-us N] [--out DIR]
              The shared-memory transport (server in a child process): unary p50/p99 against a raw spin ping-pong
              and against the message transport over a Unix socket, 64 callers (CPU per call, and against their
              floor: the same callers echoing through one shared-memory endpoint with no RPC protocol),
              allocations per call, a 1 GiB download (quick: 256 MiB) against memcpy; writes results/shm.md.

          dotnet run -c Release --project tests/RpcGen.Benchmarks -- --profile --peers rpcgen --links tcp --workload small --callers 1 --seconds 10
              Runs one cell for a while (attach `dotnet-trace collect -p PID`) and lists the types allocated per call.

          dotnet run -c Release --project tests/RpcGen.Benchmarks -- --handshakes [--quick] [--count N] [--out DIR]
              Connects and disposes clients one after another: plain TCP, TLS 1.3, TLS 1.3 + PSK; writes
              results/handshakes.md. At most 10 s per kind.

          dotnet run -c Release --project tests/RpcGen.Benchmarks -- --flow [--quick] [--out DIR]
              The flow transport: one flow and 16 flows vs raw TCP and Nerdbank.Streams MultiplexingStream,
              open-to-first-byte, unary and 64 callers over a flow vs the message transport; writes results/flow.md.

          dotnet run -c Release --project tests/RpcGen.Benchmarks -- --analyzers [--quick] [--interfaces N] [--runs N] [--out DIR]
              Every RpcGen analyzer over a generated contract assembly of N services (default 200; each with nine
              methods, DTOs, a known-type hierarchy, a callback and a client), against the compiler's own binding of
              the same code: time per interface and per analyzer; writes results/analyzers.md. 7 runs (quick: 2).

          dotnet run -c Release --project tests/RpcGen.Benchmarks -- --bdn [--quick] [-- BenchmarkDotNet args]
              BenchmarkDotNet (MemoryDiagnoser, in-process) for the foundation benchmark: RpcGen vs the raw
              floor, small DTO, 1 and 64 callers, TCP and UDS. Run it under `taskset -c 0` for the pinned figures.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--bdn"))
        {
            return BdnRunner.Run(args);
        }

        if (args.Contains("--bulk"))
        {
            return await BulkCommand.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--handshakes"))
        {
            return await HandshakeCommand.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--shm"))
        {
            return await RpcGen.Benchmarks.SharedMemory.ShmCommand.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--flow"))
        {
            return await RpcGen.Benchmarks.Flow.FlowCommand.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--analyzers"))
        {
            return await AnalyzerCommand.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--capnp"))
        {
            return await CapnpCommand.RunAsync(args).ConfigureAwait(false);
        }

        if (args.Contains("--profile"))
        {
            return await ProfileCommand.RunAsync(args, Value).ConfigureAwait(false);
        }

        if (!args.Contains("--compare"))
        {
            Console.WriteLine(Usage);
            return args.Length == 0 || args.Contains("--help") ? 0 : 2;
        }

        if (await TieredJit.RestartWithoutCallCountingDelayAsync(args).ConfigureAwait(false) is { } exitCode)
        {
            return exitCode;
        }

        var options = ParseOptions(args);
        if (await PinnedChild.TryRunAsChildAsync(args, label => RunPassAsync(label, "taskset -c 0: client and server share CPU 0", options, Console.Out)).ConfigureAwait(false))
        {
            return 0;
        }

        if (PinnedChild.ParseAffinity(args) is not { } affinity)
        {
            return 2;
        }

        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var runs = new List<AffinityRun>();
        if (affinity is "both" or "pinned")
        {
            runs.Add(await RunPinnedChildAsync(args).ConfigureAwait(false));
        }

        if (affinity is "both" or "unpinned")
        {
            var cpus = Environment.ProcessorCount;
            var description = cpus == 1 ? "no affinity set by the harness, but only 1 CPU is available to it" : $"no affinity set ({cpus} CPUs)";
            runs.Add(await RunPassAsync("unpinned", description, options, Console.Out).ConfigureAwait(false));
        }

        var report = new ComparisonReport
        {
            Command = "dotnet run -c Release --project tests/RpcGen.Benchmarks -- " + string.Join(' ', args),
            Mode = options.Mode,
            Started = started,
            TotalSeconds = clock.Elapsed.TotalSeconds,
            Machine = DescribeMachine(),
            Options = options,
            Runs = runs,
        };

        var outputDirectory = Value(args, "--out") ?? Path.Combine(FindProjectDirectory(), "results");
        var (markdownPath, svgPath) = await WriteReportAsync(report, outputDirectory).ConfigureAwait(false);
        Console.WriteLine();
        Console.WriteLine(File.ReadAllText(markdownPath));
        Console.WriteLine($"Wrote {markdownPath} and {svgPath} in {ReportWriter.Duration(report.TotalSeconds)}.");
        return runs.Any(r => r.Failure is null) ? 0 : 1;
    }

    /// <summary>Writes latest.md and latest.svg into <paramref name="directory"/>.</summary>
    public static async Task<(string Markdown, string Svg)> WriteReportAsync(ComparisonReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        var markdownPath = Path.Combine(directory, "latest.md");
        var svgPath = Path.Combine(directory, "latest.svg");
        await File.WriteAllTextAsync(markdownPath, ReportWriter.Render(report)).ConfigureAwait(false);
        await File.WriteAllTextAsync(svgPath, SvgChart.Render(report)).ConfigureAwait(false);
        return (markdownPath, svgPath);
    }

    /// <summary>Runs every peer and workload of <paramref name="options"/> in this process.</summary>
    public static async Task<AffinityRun> RunPassAsync(string label, string affinity, CompareOptions options, TextWriter log)
    {
        log.WriteLine($"== {label} pass ({affinity}), {options.Mode} mode");
        var clock = Stopwatch.StartNew();
        var loadBefore = LoadAverage();
        var notes = new Dictionary<string, string>(StringComparer.Ordinal);
        var results = await CompareSuite.RunAsync(options, log, notes).ConfigureAwait(false);
        return new AffinityRun
        {
            LoadBefore = loadBefore,
            LoadAfter = LoadAverage(),
            Label = label,
            Affinity = affinity,
            Cpus = Environment.ProcessorCount,
            Seconds = clock.Elapsed.TotalSeconds,
            Results = results,
            PeerNotes = notes,
            CallCountingDelayMs = TieredJit.CallCountingDelayMs,
        };
    }

    private static async Task<AffinityRun> RunPinnedChildAsync(string[] args)
    {
        const string label = "pinned";
        var (run, failure) = await PinnedChild.RunAsync<AffinityRun>(args, "--compare", label).ConfigureAwait(false);
        return run ?? Failed(label, failure!);
    }

    /// <summary>The 1-minute load average, so a report can say when other work shared the machine.</summary>
    public static double LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.AsSpan(0, text.IndexOf(' ')), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return -1;
        }
    }

    private static AffinityRun Failed(string label, string why) =>
        new() { Label = label, Affinity = "not run", Cpus = 0, Seconds = 0, Results = [], Failure = why };

    public static CompareOptions ParseOptions(string[] args)
    {
        var options = args.Contains("--quick") ? CompareOptions.Quick : CompareOptions.Full;
        if (Value(args, "--peers") is { } peers)
        {
            options = options with { Peers = [.. peers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParsePeer)] };
        }

        if (Value(args, "--links") is { } links)
        {
            options = options with { Links = [.. links.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseLink)] };
        }

        if (Value(args, "--workloads") is { } workloads)
        {
            options = options with { Workloads = [.. workloads.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseWorkload)] };
        }

        if (Value(args, "--callers") is { } callers)
        {
            options = options with { CallerCounts = [.. callers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => int.Parse(c, System.Globalization.CultureInfo.InvariantCulture))] };
        }

        if (Value(args, "--stream-items") is { } streamItems)
        {
            options = options with { StreamItems = int.Parse(streamItems, System.Globalization.CultureInfo.InvariantCulture) };
        }

        return options;
    }

    public static Workload ParseWorkload(string name)
    {
        foreach (var workload in Enum.GetValues<Workload>())
        {
            if (string.Equals(workload.ShortName(), name, StringComparison.OrdinalIgnoreCase) ||
                string.Equals(workload.ToString(), name, StringComparison.OrdinalIgnoreCase))
            {
                return workload;
            }
        }

        throw new ArgumentException($"Unknown workload '{name}'. Use empty, small, 600B, 64KiB, stream or upload.");
    }

    private static PeerKind ParsePeer(string name) => name.ToLowerInvariant() switch
    {
        "raw" => PeerKind.Raw,
        "raw-coalesced" => PeerKind.RawCoalesced,
        "rpcgen" => PeerKind.RpcGen,
        "rpcgen-inline" => PeerKind.RpcGenInline,
        "rpcgen-tls" => PeerKind.RpcGenTls,
        "rpcgen-tls-psk" => PeerKind.RpcGenTlsPsk,
        "grpc" => PeerKind.Grpc,
        "grpc-tls" => PeerKind.GrpcTls,
        "streamjsonrpc" or "jsonrpc" => PeerKind.StreamJsonRpc,
        _ => throw new ArgumentException($"Unknown peer '{name}'. Use raw, raw-coalesced, rpcgen, rpcgen-inline, rpcgen-tls, rpcgen-tls-psk, grpc or streamjsonrpc."),
    };

    public static LinkKind ParseLink(string name) => name.ToLowerInvariant() switch
    {
        "tcp" => LinkKind.Tcp,
        "uds" or "unix" => LinkKind.Uds,
        _ => throw new ArgumentException($"Unknown link '{name}'. Use tcp or uds."),
    };

    /// <summary>The value after option <paramref name="name"/>, or null.</summary>
    public static string? Value(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    public static string DescribeMachine()
    {
        var cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }

        var build = IsDebugBuild ? "**Debug build: figures are not representative**" : "Release build";
        return $"{cpu}, {Environment.ProcessorCount} CPUs visible to the harness, {RuntimeInformation.OSDescription}, " +
               $"{RuntimeInformation.FrameworkDescription} {RuntimeInformation.ProcessArchitecture}, " +
               $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC ({GCSettings.LatencyMode}), {build}, {DescribePipelines()}";
    }

    /// <summary>
    /// Which System.IO.Pipelines every peer in this process runs on. A package copy next to the harness
    /// would replace the shared framework's for all of them, which no user's app of one peer would get.
    /// </summary>
    public static string DescribePipelines()
    {
        var assembly = typeof(System.IO.Pipelines.Pipe).Assembly;
        var version = assembly.GetCustomAttributes(typeof(AssemblyFileVersionAttribute), false).OfType<AssemblyFileVersionAttribute>().FirstOrDefault()?.Version ?? "?";
        var frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location);
        var source = string.Equals(Path.GetDirectoryName(assembly.Location), frameworkDirectory, StringComparison.Ordinal) ? "the shared framework's" : "a package copy at " + assembly.Location;
        return $"System.IO.Pipelines {version} ({source})";
    }

    private static bool IsDebugBuild =>
        typeof(BenchmarkCli).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false)
            .OfType<DebuggableAttribute>().Any(d => d.IsJITOptimizerDisabled);

    /// <summary>The benchmark project's directory (where results/ lives), found from the binary's location.</summary>
    public static string FindProjectDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RpcGen.Benchmarks.csproj")))
            {
                return directory.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
