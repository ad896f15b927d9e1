using System.Globalization;
using System.Text;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Flow;

/// <summary><c>--flow [--quick] [--out DIR]</c>: runs <see cref="FlowSuite"/>, writes results/flow.md and prints it.</summary>
public static class FlowCommand
{
    public const string FileName = "flow.md";

    public static async Task<int> RunAsync(string[] args)
    {
        var options = args.Contains("--quick") ? FlowOptions.Quick : FlowOptions.Full;
        var command = "dotnet run -c Release --project tests/RpcGen.Benchmarks -- " + string.Join(' ', args);
        var cells = await FlowSuite.RunAsync(options, Console.Out).ConfigureAwait(false);
        var markdown = Render(cells, command);
        var directory = BenchmarkCli.Value(args, "--out") ?? Path.Combine(BenchmarkCli.FindProjectDirectory(), "results");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        await File.WriteAllTextAsync(path, markdown).ConfigureAwait(false);
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"Wrote {path}.");
        return 0;
    }

    /// <summary>The report: every cell, then the ratios the issue sets targets for.</summary>
    public static string Render(IReadOnlyList<FlowCell> cells, string command)
    {
        double V(string name) => cells.First(c => c.Name == name).Value;
        var text = new StringBuilder();
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        text.AppendLine("# Flow transport benchmark");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"`{command}`, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs, load average {load}; one process, loopback TCP (and shared memory for the shm rows), unpinned.");
        text.AppendLine();
        text.AppendLine("| cell | value |");
        text.AppendLine("|---|---:|");
        foreach (var cell in cells)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {cell.Name} | {cell.Value:N1} {cell.Unit} |");
        }

        text.AppendLine();
        text.AppendLine("| ratio | measured | target |");
        text.AppendLine("|---|---:|---:|");
        void Ratio(string name, double value, string target) => text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {value:F2}× | {target} |");
        Ratio("1 flow ÷ raw TCP", V("flow, 1 flow") / V("raw TCP, 1 stream"), "≥ 0.8×");
        Ratio("1 flow ÷ MultiplexingStream 1 channel", V("flow, 1 flow") / V("MultiplexingStream, 1 channel"), "≥ 1.5×");
        Ratio("16 flows ÷ MultiplexingStream 16 channels", V("flow, 16 flows aggregate") / V("MultiplexingStream, 16 channels aggregate"), "≥ 2×");
        Ratio("16 flows ÷ raw TCP", V("flow, 16 flows aggregate") / V("raw TCP, 1 stream"), "≥ 0.7×");
        Ratio("open to first byte back ÷ ping round trip", V("flow open to first byte back, p50") / V("flow ping round trip, p50"), "≈ 1× (0 extra round trips)");
        Ratio("open to first byte back ÷ unary call over a flow", V("flow open to first byte back, p50") / V("unary over a flow (flow+tcp), p50"), "–");
        Ratio("unary over a flow ÷ message transport direct", V("unary over a flow (flow+tcp), p50") / V("unary over message transport (tcp), p50"), "≤ 1.15×");
        Ratio("64 callers over a flow ÷ direct", V("64 callers, over a flow (flow+tcp)") / V("64 callers, message transport (tcp)"), "≥ 0.8×");
        if (cells.Any(cell => cell.Name == "unary over a flow on shm (flow+shm), p50"))
        {
            Ratio("unary over a flow on shm ÷ shm direct", V("unary over a flow on shm (flow+shm), p50") / V("unary over shared memory (shm), p50"), "–");
        }
        return text.ToString();
    }
}
