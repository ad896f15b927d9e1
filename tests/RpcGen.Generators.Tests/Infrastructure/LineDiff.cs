using System.Text;

namespace RpcGen.Generators.Tests.Infrastructure;

/// <summary>A small line diff (longest common subsequence) that prints changed lines with a little context.</summary>
internal static class LineDiff
{
    private const int Context = 2;

    public static string Format(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');

        // lcs[i, j] = length of the longest common subsequence of a[i..] and b[j..].
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var lines = new List<(char Kind, int Line, string Text)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                lines.Add((' ', y + 1, a[x]));
                x++;
                y++;
            }
            else if (y < b.Length && (x == a.Length || lcs[x, y + 1] >= lcs[x + 1, y]))
            {
                lines.Add(('+', y + 1, b[y]));
                y++;
            }
            else
            {
                lines.Add(('-', x + 1, a[x]));
                x++;
            }
        }

        var output = new StringBuilder();
        var lastPrinted = -1;
        for (var k = 0; k < lines.Count; k++)
        {
            var near = false;
            for (var d = Math.Max(0, k - Context); d <= Math.Min(lines.Count - 1, k + Context); d++)
            {
                near |= lines[d].Kind != ' ';
            }

            if (!near)
            {
                continue;
            }

            if (lastPrinted >= 0 && k > lastPrinted + 1)
            {
                output.AppendLine("    ...");
            }

            output.AppendLine($"  {lines[k].Kind} {lines[k].Line,4}: {lines[k].Text}");
            lastPrinted = k;
        }

        return output.ToString();
    }
}
