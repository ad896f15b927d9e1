using System;
using System.Text;

namespace RpcGen.Generators.Emitters;

/// <summary>Builds C# text line by line with the current indentation; raw-string blocks are re-indented as a whole.</summary>
internal sealed class SourceWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter WriteLine(string line = "")
    {
        if (line.Length > 0)
        {
            for (var i = 0; i < _indent; i++)
            {
                _text.Append(IndentUnit);
            }

            _text.Append(line);
        }

        _text.Append('\n');
        return this;
    }

    /// <summary>Writes text as it is, without indentation (the inside of a verbatim string).</summary>
    public SourceWriter WriteRaw(string text)
    {
        _text.Append(text);
        return this;
    }

    /// <summary>Writes every line of <paramref name="block"/> at the current indentation.</summary>
    public SourceWriter WriteLines(string block)
    {
        foreach (var line in block.Replace("\r\n", "\n").Split('\n'))
        {
            WriteLine(line);
        }

        return this;
    }

    /// <summary>Writes <paramref name="header"/> (if any) and <c>{</c>, then indents.</summary>
    public SourceWriter Open(string? header = null)
    {
        if (header is not null)
        {
            WriteLine(header);
        }

        WriteLine("{");
        _indent++;
        return this;
    }

    /// <summary>Outdents and writes <c>}</c> plus an optional suffix (<c>;</c>).</summary>
    public SourceWriter Close(string suffix = "")
    {
        if (_indent == 0)
        {
            throw new InvalidOperationException("Unbalanced block.");
        }

        _indent--;
        WriteLine("}" + suffix);
        return this;
    }

    public override string ToString() => _text.ToString();
}
