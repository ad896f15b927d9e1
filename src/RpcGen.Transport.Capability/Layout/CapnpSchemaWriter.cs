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
    /// <summary>Writes a schema file with the given file id (which must have its top bit set): the enums, then the structs, then the interfaces, all at file scope.</summary>
    public static string Write(ulong fileId, IEnumerable<StructShape> structs, IEnumerable<EnumShape>? enums = null, IEnumerable<InterfaceShape>? interfaces = null)
    {
        if (structs is null)
        {
            throw new ArgumentNullException(nameof(structs));
        }

        var declarations = (enums ?? []).Select(e => new SchemaDeclaration(e))
            .Concat(structs.Select(s => new SchemaDeclaration(s)))
            .Concat((interfaces ?? []).Select(i => new SchemaDeclaration(i)));
        return Write(fileId, declarations);
    }

    /// <summary>
    /// Writes a schema file with the given file id (which must have its top bit set) whose file-scope
    /// declarations are <paramref name="declarations"/>, each with the declarations nested in it. A
    /// nested type is named from outside its parent by its path (<c>Outer.Inner</c>).
    /// </summary>
    public static string Write(ulong fileId, IEnumerable<SchemaDeclaration> declarations)
    {
        if (declarations is null)
        {
            throw new ArgumentNullException(nameof(declarations));
        }

        if ((fileId & (1ul << 63)) == 0)
        {
            throw new ArgumentException("A Cap'n Proto id must have its top bit set.", nameof(fileId));
        }

        var text = new StringBuilder();
        text.Append(FormattableString.Invariant($"@0x{fileId:x16};\n"));
        foreach (var declaration in declarations)
        {
            text.Append('\n');
            WriteDeclaration(text, declaration, 0);
        }

        return text.ToString();
    }

    private static void WriteDeclaration(StringBuilder text, SchemaDeclaration declaration, int depth)
    {
        var indent = new string(' ', depth * 2);
        var inner = new string(' ', (depth + 1) * 2);
        switch (declaration.Shape)
        {
            case EnumShape e:
                text.Append(FormattableString.Invariant($"{indent}enum {e.Name}{Id(e.Id)} {{\n"));
                for (var i = 0; i < e.Enumerants.Count; i++)
                {
                    text.Append(FormattableString.Invariant($"{inner}{e.Enumerants[i]} @{i};\n"));
                }

                break;
            case StructShape s:
                text.Append(FormattableString.Invariant($"{indent}struct {s.Name}{Id(s.Id)} {{\n"));
                WriteMembers(text, s.Members, depth + 1);
                break;
            case InterfaceShape i:
                var extends = i.Extends is { Count: > 0 } bases ? " extends(" + string.Join(", ", bases) + ")" : string.Empty;
                text.Append(FormattableString.Invariant($"{indent}interface {i.Name}{Id(i.Id)}{extends} {{\n"));
                foreach (var m in i.Methods)
                {
                    var results = m.Streams ? "stream" : "(" + ParameterList(m.Results) + ")";
                    text.Append(FormattableString.Invariant($"{inner}{m.Name} @{m.Ordinal} ({ParameterList(m.Parameters)}) -> {results};\n"));
                }

                break;
            default:
                throw new ArgumentException("A declaration is a StructShape, an EnumShape or an InterfaceShape.", nameof(declaration));
        }

        foreach (var nested in declaration.Nested ?? [])
        {
            text.Append('\n');
            WriteDeclaration(text, nested, depth + 1);
        }

        text.Append(indent).Append("}\n");
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
