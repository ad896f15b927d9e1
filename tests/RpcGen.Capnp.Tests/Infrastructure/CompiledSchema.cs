using System.Globalization;
using System.Text.RegularExpressions;

namespace RpcGen.Capnp.Tests.Infrastructure;

/// <summary>
/// The output of <c>capnp compile -ocapnp</c>, parsed: for each struct its size and, for each field
/// (named by its path through groups, e.g. <c>point.x</c>), the bit range or pointer index the
/// compiler chose and its union tag.
/// </summary>
internal sealed partial class CompiledSchema
{
    public Dictionary<string, CompiledStruct> Structs { get; } = new(StringComparer.Ordinal);

    public CompiledStruct this[string name] => Structs[name];

    public static CompiledSchema Parse(string text)
    {
        var schema = new CompiledSchema();
        // Each open brace pushes a scope: a struct, a group (named), a union, or something skipped (enum, interface).
        var scopes = new Stack<(string Kind, string Name, CompiledStruct? Struct)>();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            var current = scopes.Count > 0 ? scopes.Peek() : default;
            Match m;
            if ((m = StructLine().Match(line)).Success)
            {
                var compiled = new CompiledStruct(m.Groups["name"].Value,
                    int.Parse(m.Groups["bytes"].Value, CultureInfo.InvariantCulture),
                    int.Parse(m.Groups["ptrs"].Value, CultureInfo.InvariantCulture));
                schema.Structs[compiled.Name] = compiled;
                scopes.Push(("struct", string.Empty, compiled));
            }
            else if ((m = GroupLine().Match(line)).Success && current.Struct is not null)
            {
                var path = Join(current.Name, m.Groups["name"].Value);
                if (m.Groups["tag"].Success)
                {
                    current.Struct.GroupUnionTags[path] = int.Parse(m.Groups["tag"].Value, CultureInfo.InvariantCulture);
                }

                scopes.Push(("group", path, current.Struct));
            }
            else if ((m = UnionLine().Match(line)).Success && current.Struct is not null)
            {
                var name = m.Groups["name"].Success ? Join(current.Name, m.Groups["name"].Value) : current.Name;
                current.Struct.UnionTagBits[name] = int.Parse(m.Groups["start"].Value, CultureInfo.InvariantCulture);
                scopes.Push(("union", name, current.Struct));
            }
            else if (line.EndsWith('{'))
            {
                scopes.Push(("other", string.Empty, null));
            }
            else if (line.StartsWith('}'))
            {
                scopes.Pop();
            }
            else if ((m = FieldLine().Match(line)).Success && current.Struct is not null && current.Kind != "other")
            {
                var field = new CompiledField(
                    Join(current.Name, m.Groups["name"].Value),
                    int.Parse(m.Groups["ordinal"].Value, CultureInfo.InvariantCulture),
                    m.Groups["type"].Value.Trim(),
                    m.Groups["bstart"].Success ? int.Parse(m.Groups["bstart"].Value, CultureInfo.InvariantCulture) : -1,
                    m.Groups["bend"].Success ? int.Parse(m.Groups["bend"].Value, CultureInfo.InvariantCulture) : -1,
                    m.Groups["ptr"].Success ? int.Parse(m.Groups["ptr"].Value, CultureInfo.InvariantCulture) : -1,
                    m.Groups["tag"].Success ? int.Parse(m.Groups["tag"].Value, CultureInfo.InvariantCulture) : -1);
                current.Struct.Fields[field.Path] = field;
            }
        }

        return schema;
    }

    private static string Join(string scope, string name) => scope.Length == 0 ? name : scope + "." + name;

    [GeneratedRegex(@"^struct (?<name>\w+) @0x[0-9a-f]+ (?:\(.*\) )?\{\s+# (?<bytes>\d+) bytes, (?<ptrs>\d+) ptrs")]
    private static partial Regex StructLine();

    [GeneratedRegex(@"^(?<name>\w+) :group \{(?:\s+# union tag = (?<tag>\d+))?")]
    private static partial Regex GroupLine();

    [GeneratedRegex(@"^(?:(?<name>\w+) :)?union \{\s+# tag bits \[(?<start>\d+), (?<end>\d+)\)")]
    private static partial Regex UnionLine();

    [GeneratedRegex(@"^(?<name>\w+) @(?<ordinal>\d+) :(?<type>[^;=]+?)(?: = [^;]*)?;\s+# (?:bits\[(?<bstart>\d+), (?<bend>\d+)\)|ptr\[(?<ptr>\d+)\])(?:, union tag = (?<tag>\d+))?")]
    private static partial Regex FieldLine();
}

internal sealed record CompiledStruct(string Name, int DataBytes, int Pointers)
{
    public Dictionary<string, CompiledField> Fields { get; } = new(StringComparer.Ordinal);

    /// <summary>Start bit of each union's tag, keyed by the union's path ("" for the struct's unnamed union).</summary>
    public Dictionary<string, int> UnionTagBits { get; } = new(StringComparer.Ordinal);

    /// <summary>Union tags of groups (and named unions, which print as groups) that are union members.</summary>
    public Dictionary<string, int> GroupUnionTags { get; } = new(StringComparer.Ordinal);

    public CompiledField this[string path] => Fields[path];
}

internal sealed record CompiledField(string Path, int Ordinal, string Type, int BitStart, int BitEnd, int PointerIndex, int UnionTag)
{
    /// <summary>The offset in units of the field's own size, as readers and builders take it.</summary>
    public int Offset => PointerIndex >= 0 ? PointerIndex : (BitEnd - BitStart) is var size and > 0 ? BitStart / size : 0;
}
