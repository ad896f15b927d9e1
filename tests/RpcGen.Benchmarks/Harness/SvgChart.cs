using System.Globalization;
using System.Security;
using System.Text;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// Draws the headline pass as an SVG bar chart, written as text here (no charting service): one
/// panel of single-caller p50 latency and one of 64-caller throughput, a group of bars per unary
/// workload, each group scaled to its own largest value and every bar labelled with its figure.
/// </summary>
public static class SvgChart
{
    private const int Width = 960;
    private const int LabelWidth = 190;
    private const int BarAreaWidth = 600;
    private const int BarHeight = 14;
    private const int BarGap = 4;
    private const int GroupGap = 14;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly (PeerKind Peer, string Color)[] Palette =
    [
        (PeerKind.Raw, "#7f7f7f"),
        (PeerKind.RawCoalesced, "#b5b5b5"),
        (PeerKind.RpcGen, "#d62728"),
        (PeerKind.RpcGenInline, "#ff9896"),
        (PeerKind.RpcGenTls, "#9467bd"),
        (PeerKind.RpcGenTlsPsk, "#c5b0d5"),
        (PeerKind.Grpc, "#1f77b4"),
        (PeerKind.GrpcTls, "#aec7e8"),
        (PeerKind.StreamJsonRpc, "#2ca02c"),
    ];

    public static string Render(ComparisonReport report)
    {
        var run = report.Headline;
        var link = report.Options.Links.FirstOrDefault();
        var body = new StringBuilder();
        var y = 40;
        var title = run is null
            ? "RpcGen comparison: no pass completed"
            : $"RpcGen comparison — {run.Label} ({run.Affinity}), {(link == LinkKind.Tcp ? "TCP loopback" : "Unix socket")}, {report.Mode} mode";
        body.AppendLine(Invariant, $"""  <text x="20" y="26" font-size="16" font-weight="bold">{Escape(title)}</text>""");

        if (run is not null)
        {
            var singleCallers = report.Options.CallerCounts.Min();
            var manyCallers = report.Options.CallerCounts.Max();
            y = Panel(body, run, link, report.Options, singleCallers, y,
                $"{singleCallers} caller — p50 latency in µs (shorter is better)",
                r => r.P50Microseconds, v => ReportWriter.Us(v) + " µs");
            if (manyCallers != singleCallers)
            {
                y = Panel(body, run, link, report.Options, manyCallers, y + 10,
                    $"{manyCallers} concurrent callers on one connection — calls/s (longer is better)",
                    r => r.OperationsPerSecond, v => ReportWriter.Count(v) + " /s");
            }
        }

        y = Legend(body, y + 10);
        var svg = new StringBuilder();
        svg.AppendLine(Invariant, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{y + 20}" viewBox="0 0 {Width} {y + 20}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">""");
        svg.AppendLine(Invariant, $"""  <rect x="0" y="0" width="{Width}" height="{y + 20}" fill="#ffffff"/>""");
        svg.Append(body);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static int Panel(
        StringBuilder svg, AffinityRun run, LinkKind link, CompareOptions options, int callers, int y, string title,
        Func<CellResult, double> metric, Func<double, string> format)
    {
        y += 22;
        svg.AppendLine(Invariant, $"""  <text x="20" y="{y}" font-size="14" font-weight="bold">{Escape(title)}</text>""");
        y += 8;
        foreach (var workload in options.Workloads.Where(w => w.IsUnary()))
        {
            var cells = Palette
                .Select(p => (p.Peer, p.Color, Cell: ReportWriter.Find(run, p.Peer, link, workload, callers)))
                .Where(c => c.Cell is not null)
                .ToList();
            if (cells.Count == 0)
            {
                continue;
            }

            y += 16;
            svg.AppendLine(Invariant, $"""  <text x="20" y="{y}" font-weight="bold">{Escape(workload.Describe())}</text>""");
            y += 4;
            var max = cells.Where(c => c.Cell!.IsMeasured).Select(c => metric(c.Cell!)).DefaultIfEmpty(0).Max();
            foreach (var (peer, color, cell) in cells)
            {
                svg.AppendLine(Invariant, $"""  <text x="{LabelWidth - 8}" y="{y + BarHeight - 3}" text-anchor="end">{Escape(peer.Display())}</text>""");
                if (cell!.IsMeasured && max > 0)
                {
                    var value = metric(cell);
                    var length = Math.Max(1.0, value / max * BarAreaWidth);
                    svg.AppendLine(Invariant, $"""  <rect x="{LabelWidth}" y="{y}" width="{length:0.#}" height="{BarHeight}" fill="{color}"/>""");
                    svg.AppendLine(Invariant, $"""  <text x="{LabelWidth + length + 6:0.#}" y="{y + BarHeight - 3}">{Escape(format(value))}</text>""");
                }
                else
                {
                    svg.AppendLine(Invariant, $"""  <text x="{LabelWidth}" y="{y + BarHeight - 3}" fill="#888888" font-style="italic">{Escape(cell.Unavailable ?? "no data")}</text>""");
                }

                y += BarHeight + BarGap;
            }

            y += GroupGap - BarGap;
        }

        return y;
    }

    private static int Legend(StringBuilder svg, int y)
    {
        y += 10;
        var x = 20;
        foreach (var (peer, color) in Palette)
        {
            svg.AppendLine(Invariant, $"""  <rect x="{x}" y="{y}" width="12" height="12" fill="{color}"/>""");
            svg.AppendLine(Invariant, $"""  <text x="{x + 16}" y="{y + 10}">{Escape(peer.Display())}</text>""");
            x += 30 + (peer.Display().Length * 7);
        }

        y += 30;
        svg.AppendLine(Invariant, $"""  <text x="20" y="{y}" fill="#555555">Bars in each group are scaled to that group's largest value. Client and server share one process; see latest.md for p99 and allocations.</text>""");
        return y;
    }

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;
}
