using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace RpcGen.Capnp;

/// <summary>
/// Writes shapes as <c>.capnp</c> schema text, so a contract defined in C# can be handed to other
/// languages' Cap'n Proto tooling (and so the layout here can be checked against <c>capnp compile</c>).
/// Type names must start with an upper-case letter and member names with a lower-case one, as the
/// schema language requires. Like the rest of this folder it compiles for netstandard2.0 as well, so
/// the source generator can link it.
/// </summary>
public static class CapnpSchemaWriter
{
    /// <summary>Writes a schema file with the given file id (which must have its top bit set).</summary>
    public static string Write(ulong fileId, IEnumerable<StructShape> structs, IEnumerable<EnumShape>? enums = null, IEnumerable<InterfaceShape>? interfaces = null)
    {
        if (structs is null)
        {
            throw new ArgumentNullException(nameof(structs));
        }

        if ((fileId & (1ul << 63)) == 0)
        {
            throw new ArgumentException("A Cap'n Proto id must have its top bit set.", nameof(fileId));
        }

        var text = new StringBuilder();
        text.Append(FormattableString.Invariant($"@0x{fileId:x16};\n"));
        foreach (var e in enums ?? [])
        {
            text.Append(FormattableString.Invariant($"\nenum {e.Name}{Id(e.Id)} {{\n"));
            for (var i = 0; i < e.Enumerants.Count; i++)
            {
                text.Append(FormattableString.Invariant($"  {e.Enumerants[i]} @{i};\n"));
            }

            text.Append("}\n");
        }

        foreach (var s in structs)
        {
            text.Append(FormattableString.Invariant($"\nstruct {s.Name}{Id(s.Id)} {{\n"));
            WriteMembers(text, s.Members, 1);
            text.Append("}\n");
        }

        foreach (var i in interfaces ?? [])
        {
            text.Append(FormattableString.Invariant($"\ninterface {i.Name}{Id(i.Id)} {{\n"));
            foreach (var m in i.Methods)
            {
                text.Append(FormattableString.Invariant($"  {m.Name} @{m.Ordinal} ({ParameterList(m.Parameters)}) -> ({ParameterList(m.Results)});\n"));
            }

            text.Append("}\n");
        }

        return text.ToString();
    }

    private static void WriteMembers(StringBuilder text, IReadOnlyList<StructMember> members, int depth)
    {
        var indent = new string(' ', depth * 2);
        foreach (var member in members)
        {
            switch (member)
            {
                case FieldShape f:
                    var defaultValue = f.DefaultValue is null ? string.Empty : " = " + f.DefaultValue;
                    text.Append(FormattableString.Invariant($"{indent}{f.Name} @{f.Ordinal} :{f.Type}{defaultValue};\n"));
                    break;

                case GroupShape g:
                    text.Append(FormattableString.Invariant($"{indent}{g.Name} :group {{\n"));
                    WriteMembers(text, g.Members, depth + 1);
                    text.Append(FormattableString.Invariant($"{indent}}}\n"));
                    break;

                case UnionShape u:
                    var head = u.Name.Length == 0
                        ? "union"
                        : u.Ordinal is { } ordinal
                            ? $"{u.Name} @{ordinal}! :union"
                            : $"{u.Name} :union";
                    text.Append(FormattableString.Invariant($"{indent}{head} {{\n"));
                    WriteMembers(text, u.Members, depth + 1);
                    text.Append(FormattableString.Invariant($"{indent}}}\n"));
                    break;
            }
        }
    }

    private static string ParameterList(IReadOnlyList<(string Name, CapnpFieldType Type)> parameters) =>
        string.Join(", ", parameters.Select(p => $"{p.Name} :{p.Type}"));

    private static string Id(ulong? id) => id is { } value ? FormattableString.Invariant($" @0x{value:x16}") : string.Empty;
}
