using Microsoft.CodeAnalysis.Text;

namespace RpcGen.Analyzers.Tests;

/// <summary>
/// Source text with expected diagnostics marked inline as <c>{|RPC0005:int|}</c>: the id, then the exact
/// text the diagnostic must cover. <c>{|RPC0008,RPC0008:Order|}</c> expects two diagnostics on one span.
/// Markers do not nest.
/// </summary>
internal sealed class Markup
{
    private Markup(string source, IReadOnlyList<ExpectedDiagnostic> expected)
    {
        Source = source;
        Expected = expected;
    }

    /// <summary>The source with the markers removed.</summary>
    public string Source { get; }

    /// <summary>The marked diagnostics, in source order.</summary>
    public IReadOnlyList<ExpectedDiagnostic> Expected { get; }

    public static Markup Parse(string markup)
    {
        var source = new System.Text.StringBuilder();
        var expected = new List<ExpectedDiagnostic>();
        var position = 0;
        while (true)
        {
            var open = markup.IndexOf("{|", position, StringComparison.Ordinal);
            if (open < 0)
            {
                source.Append(markup, position, markup.Length - position);
                break;
            }

            source.Append(markup, position, open - position);
            var colon = markup.IndexOf(':', open);
            var close = markup.IndexOf("|}", colon, StringComparison.Ordinal);
            var ids = markup.Substring(open + 2, colon - open - 2).Split(',');
            var covered = markup.Substring(colon + 1, close - colon - 1);
            expected.AddRange(ids.Select(id => new ExpectedDiagnostic(id, new TextSpan(source.Length, covered.Length))));
            source.Append(covered);
            position = close + 2;
        }

        return new Markup(source.ToString(), expected);
    }
}

/// <summary>A diagnostic a test expects: its id and the span it covers.</summary>
internal sealed record ExpectedDiagnostic(string Id, TextSpan Span);
