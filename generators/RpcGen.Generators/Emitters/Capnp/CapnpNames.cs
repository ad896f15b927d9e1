using System;
using System.Collections.Generic;
using System.Linq;

namespace RpcGen.Generators.Emitters.Capnp;

/// <summary>
/// Gives C# types their schema names, unique within one schema file: upper-case first, letters and
/// digits only, interfaces without the leading <c>I</c>, a number appended on a clash. One instance
/// serves one schema, so a type met by several services of a contract keeps one name.
/// </summary>
internal sealed class CapnpNames
{
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _nameOf = new(StringComparer.Ordinal);

    /// <summary>The schema name of something the generator adds (a stream sink), keyed by <paramref name="key"/>: <paramref name="baseName"/>, numbered on a clash.</summary>
    public string NameFor(string key, string baseName)
    {
        if (_nameOf.TryGetValue(key, out var known))
        {
            return known;
        }

        var name = baseName;
        for (var i = 2; !_taken.Add(name); i++)
        {
            name = baseName + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        _nameOf[key] = name;
        return name;
    }

    /// <summary>The schema name of the type with C# key <paramref name="key"/>, given on first use.</summary>
    public string NameFor(string key, bool isInterface)
    {
        if (_nameOf.TryGetValue(key, out var known))
        {
            return known;
        }

        var simple = CapnpModel.SimpleName(key);
        if (isInterface && simple.Length > 1 && simple[0] == 'I' && char.IsUpper(simple[1]))
        {
            simple = simple.Substring(1);
        }

        // Generic arguments join the name: Page<Customer> is PageCustomer.
        var generic = key.IndexOf('<') is var open and >= 0 ? key.Substring(open) : string.Empty;
        var pieces = (simple + " " + generic).Split(new[] { '<', '>', ',', ' ', '.', ':', '_', '[', ']', '?', '(', ')' }, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => p != "global" && p != "System" && p != "Collections" && p != "Generic");
        var baseName = string.Concat(pieces.Select(p => char.ToUpperInvariant(p[0]) + p.Substring(1)));
        if (baseName.Length == 0 || !char.IsLetter(baseName[0]))
        {
            baseName = "T" + baseName;
        }

        var name = baseName;
        for (var i = 2; !_taken.Add(name); i++)
        {
            name = baseName + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        _nameOf[key] = name;
        return name;
    }
}
