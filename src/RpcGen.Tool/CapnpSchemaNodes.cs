using RpcGen.Capnp;

namespace RpcGen.Tool;

/// <summary>
/// Reads the <c>CodeGeneratorRequest</c> that <c>capnp compile -o-</c> writes (<c>capnp/schema.capnp</c>)
/// into plain records. Offsets are those <c>capnp compile -ocapnp /usr/include/capnp/schema.capnp</c>
/// prints; only what the import needs is read.
/// </summary>
internal static class CapnpSchemaNodes
{
    public enum NodeKind : ushort
    {
        File = 0,
        Struct = 1,
        Enum = 2,
        Interface = 3,
        Const = 4,
        Annotation = 5,
    }

    public enum TypeKind : ushort
    {
        Void = 0,
        Bool = 1,
        Int8 = 2,
        Int16 = 3,
        Int32 = 4,
        Int64 = 5,
        UInt8 = 6,
        UInt16 = 7,
        UInt32 = 8,
        UInt64 = 9,
        Float32 = 10,
        Float64 = 11,
        Text = 12,
        Data = 13,
        List = 14,
        Enum = 15,
        Struct = 16,
        Interface = 17,
        AnyPointer = 18,
    }

    /// <summary>A field's type; <see cref="TypeId"/> for enums, structs and interfaces, <see cref="Element"/> for lists.</summary>
    public sealed record SchemaType(TypeKind Kind, ulong TypeId, SchemaType? Element);

    /// <summary>A field: a slot of <see cref="Type"/>, or a group (<see cref="GroupId"/> not 0). <see cref="Ordinal"/> is null for groups.</summary>
    public sealed record SchemaField(string Name, int? Ordinal, ushort DiscriminantValue, SchemaType? Type, ulong GroupId, bool HasDefault);

    public sealed record SchemaMethod(string Name, ulong ParamStructId, ulong ResultStructId);

    /// <summary>One node; the members for its kind are filled, the others empty.</summary>
    public sealed record SchemaNode(
        ulong Id,
        string Name,
        ulong ScopeId,
        NodeKind Kind,
        bool IsGeneric,
        IReadOnlyList<(string Name, ulong Id)> Nested,
        bool IsGroup,
        ushort DiscriminantCount,
        IReadOnlyList<SchemaField> Fields,
        IReadOnlyList<string> Enumerants,
        IReadOnlyList<SchemaMethod> Methods,
        IReadOnlyList<ulong> Superclasses);

    /// <summary>The nodes by id and the id of the file that was compiled.</summary>
    public static (Dictionary<ulong, SchemaNode> Nodes, ulong FileId, string FileName) Read(byte[] request)
    {
        var message = CapnpFraming.Read(request, CapnpReaderOptions.Default, out _);
        var root = message.GetRoot();
        var nodes = new Dictionary<ulong, SchemaNode>();
        var list = root.ReadList(0, ElementSize.InlineComposite);
        for (var i = 0; i < list.Count; i++)
        {
            var node = ReadNode(list.GetStruct(i));
            nodes[node.Id] = node;
        }

        var files = root.ReadList(1, ElementSize.InlineComposite);
        if (files.Count != 1)
        {
            throw new FormatException($"capnp compiled {files.Count} files; import one at a time.");
        }

        var file = files.GetStruct(0);
        return (nodes, file.ReadUInt64(0), file.ReadText(0) ?? string.Empty);
    }

    private static SchemaNode ReadNode(StructReader node)
    {
        var displayName = node.ReadText(0) ?? string.Empty;
        var prefix = (int)Math.Min(node.ReadUInt32(2), (uint)displayName.Length);
        var nested = new List<(string, ulong)>();
        var nestedList = node.ReadList(1, ElementSize.InlineComposite);
        for (var i = 0; i < nestedList.Count; i++)
        {
            var entry = nestedList.GetStruct(i);
            nested.Add((entry.ReadText(0) ?? string.Empty, entry.ReadUInt64(0)));
        }

        var kind = (NodeKind)node.ReadUInt16(6);
        var fields = new List<SchemaField>();
        var enumerants = new List<string>();
        var methods = new List<SchemaMethod>();
        var superclasses = new List<ulong>();
        switch (kind)
        {
            case NodeKind.Struct:
                var fieldList = node.ReadList(3, ElementSize.InlineComposite);
                for (var i = 0; i < fieldList.Count; i++)
                {
                    fields.Add(ReadField(fieldList.GetStruct(i)));
                }

                break;
            case NodeKind.Enum:
                var enumerantList = node.ReadList(3, ElementSize.InlineComposite);
                for (var i = 0; i < enumerantList.Count; i++)
                {
                    enumerants.Add(enumerantList.GetStruct(i).ReadText(0) ?? string.Empty);
                }

                break;
            case NodeKind.Interface:
                var methodList = node.ReadList(3, ElementSize.InlineComposite);
                for (var i = 0; i < methodList.Count; i++)
                {
                    var method = methodList.GetStruct(i);
                    methods.Add(new SchemaMethod(method.ReadText(0) ?? string.Empty, method.ReadUInt64(1), method.ReadUInt64(2)));
                }

                var superList = node.ReadList(4, ElementSize.InlineComposite);
                for (var i = 0; i < superList.Count; i++)
                {
                    superclasses.Add(superList.GetStruct(i).ReadUInt64(0));
                }

                break;
        }

        return new SchemaNode(
            node.ReadUInt64(0),
            displayName[prefix..],
            node.ReadUInt64(2),
            kind,
            node.ReadBool(288),
            nested,
            kind == NodeKind.Struct && node.ReadBool(224),
            kind == NodeKind.Struct ? node.ReadUInt16(15) : (ushort)0,
            fields,
            enumerants,
            methods,
            superclasses);
    }

    private static SchemaField ReadField(StructReader field)
    {
        var name = field.ReadText(0) ?? string.Empty;
        var discriminant = field.ReadUInt16(1, 0xffff);
        int? ordinal = field.ReadUInt16(5) == 1 ? field.ReadUInt16(6) : null;
        return field.ReadUInt16(4) == 1
            ? new SchemaField(name, ordinal, discriminant, null, field.ReadUInt64(2), false)
            : new SchemaField(name, ordinal, discriminant, ReadType(field.ReadStruct(2), 0), 0, field.ReadBool(128));
    }

    private static SchemaType ReadType(StructReader type, int depth)
    {
        // A List(List(…)) nests one level per element type; the reader's nesting limit bounds it too.
        if (depth > 64)
        {
            throw new FormatException("A list type nests too deeply.");
        }

        var kind = (TypeKind)type.ReadUInt16(0);
        return kind switch
        {
            TypeKind.List => new SchemaType(kind, 0, ReadType(type.ReadStruct(0), depth + 1)),
            TypeKind.Enum or TypeKind.Struct or TypeKind.Interface => new SchemaType(kind, type.ReadUInt64(1), null),
            _ => new SchemaType(kind, 0, null),
        };
    }
}
