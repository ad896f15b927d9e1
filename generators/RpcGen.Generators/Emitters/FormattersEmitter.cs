using System;
using System.Collections.Generic;
using System.Linq;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Emitters;

/// <summary>
/// Emits <c>{Base}Rpc.Formatters</c>: a formatter class for every enum, DTO and polymorphic base the
/// service reaches, and fields composing the runtime's formatters for nullables and collections.
/// </summary>
internal static class FormattersEmitter
{
    private const string WireFormat = """
        // Wire format (schema-free MessagePack; no names or type ids on the wire):
        //   DTO (class, record, struct): nil for a null reference, else an array of its members by
        //     position: [RpcMember(n)] pins n, unpinned members follow the highest pinned position in
        //     declaration order, gaps are nil. Readers skip elements past the members they know and
        //     leave members missing from a shorter array at their defaults.
        //   Enum: its underlying integer.
        //   Polymorphic base ([RpcKnownType]): nil, or [tag, members of the subtype]; a concrete base
        //     sent as itself uses tag -1. Unknown runtime types fail on write, unknown tags on read.
        //   Nullable<T>: nil or the value. Arrays, lists, sets, queues, stacks and immutable collections:
        //     an array in enumeration order. Dictionaries (sorted, concurrent, immutable too): a map.
        //     Tuples and KeyValuePair: an array of their items. Lazy<T>: its value.
        """;

    // internal (public in a client package) static partial class GreeterRpc
    // {
    //     internal (public in a client package) static class Formatters
    //     {
    //         public static readonly global::RpcGen.Serialization.IRpcFormatter<global::System.Collections.Generic.List<string>> List_String = new global::RpcGen.Serialization.ListFormatter<string>(...);
    //         public sealed class HelloReplyFormatter : global::RpcGen.Serialization.IRpcFormatter<global::Acme.HelloReply> { ... }
    //     }
    // }
    public static string Emit(ServiceSpec service)
    {
        var context = new EmitContext(service);
        var writer = new SourceWriter();
        context.WriteHeader(writer);
        writer.WriteLines(WireFormat);
        writer.WriteLine();
        writer.Open($"{context.Visibility} static partial class {context.RpcClass}");
        writer.WriteLine($"/// <summary>The formatters of the types <c>{service.ServiceName}</c> sends and receives.</summary>");
        writer.WriteLine(EmitContext.GeneratedCodeAttribute);
        writer.Open($"{context.Visibility} static class Formatters");
        var first = true;
        foreach (var type in CompositesInDependencyOrder(context))
        {
            EmitComposite(writer, context, type);
            first = false;
        }

        foreach (var type in service.Types)
        {
            if (type.Shape is not (TypeShape.Enum or TypeShape.Dto or TypeShape.Polymorphic))
            {
                continue;
            }

            if (!first)
            {
                writer.WriteLine();
            }

            first = false;
            switch (type.Shape)
            {
                case TypeShape.Enum:
                    EmitEnum(writer, type);
                    break;
                case TypeShape.Dto:
                    EmitDto(writer, context, type);
                    break;
                case TypeShape.Polymorphic:
                    EmitPolymorphic(writer, context, type);
                    break;
            }
        }

        writer.Close();
        writer.Close();
        return writer.ToString();
    }

    /// <summary>
    /// Composed formatters are static fields initialized in textual order, so one that wraps another
    /// (a list of nullable ints) must come after it. Formatter classes are referenced through their
    /// own <c>Instance</c> fields and need no ordering.
    /// </summary>
    private static IEnumerable<TypeSpec> CompositesInDependencyOrder(EmitContext context)
    {
        var emitted = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<TypeSpec>();

        void Add(TypeSpec type)
        {
            if (!IsComposite(type) || !emitted.Add(type.Key))
            {
                return;
            }

            foreach (var argument in type.Arguments)
            {
                Add(context.Type(argument));
            }

            order.Add(type);
        }

        foreach (var type in context.Service.Types)
        {
            Add(type);
        }

        return order;
    }

    private static bool IsComposite(TypeSpec type) =>
        type.Shape is TypeShape.Nullable or TypeShape.Array or TypeShape.List or TypeShape.Dictionary or TypeShape.Lazy or TypeShape.Unsupported or TypeShape.UserFormatted;

    // public static readonly global::RpcGen.Serialization.IRpcFormatter<T> Identifier = new global::RpcGen.Serialization.XFormatter<...>(...);
    // An unsupported type (reported by the analyzers) gets one that fails the call carrying it:
    // public static readonly global::RpcGen.Serialization.IRpcFormatter<T> Identifier = new global::RpcGen.Serialization.UnsupportedFormatter<T>("why");
    private static void EmitComposite(SourceWriter writer, EmitContext context, TypeSpec type)
    {
        if (type.Shape == TypeShape.UserFormatted)
        {
            // The formatter the contract named with [RpcUseFormatter], created once.
            writer.WriteLine($"public static readonly {EmitContext.Serialization}.IRpcFormatter<{type.FormattedType ?? type.Key}> {type.Identifier} = new {type.UserFormatter}();");
            return;
        }

        if (type.Shape == TypeShape.Unsupported)
        {
            writer.WriteLine($"public static readonly {EmitContext.Serialization}.IRpcFormatter<{type.Key}> {type.Identifier} =");
            writer.WriteLine($"    new {EmitContext.Serialization}.UnsupportedFormatter<{type.Key}>({EmitContext.Literal(type.Key.Replace("global::", string.Empty) + ": " + type.UnsupportedReason)});");
            return;
        }

        var arguments = type.Arguments.Select(a => context.FormatterOf(a)).ToArray();
        var argumentTypes = type.Arguments.ToArray();
        if (type.Factory is { } factory)
        {
            // A set, queue, stack, immutable or concurrent collection: written in enumeration order, rebuilt by the factory.
            var (formatter, parameter) = type.Shape == TypeShape.Dictionary
                ? ($"MapFormatter<{type.Key}, {argumentTypes[0]}, {argumentTypes[1]}>", "map")
                : ($"SequenceFormatter<{type.Key}, {argumentTypes[0]}>", "items");
            writer.WriteLine($"public static readonly {EmitContext.Serialization}.IRpcFormatter<{type.Key}> {type.Identifier} =");
            writer.WriteLine($"    new {EmitContext.Serialization}.{formatter}({string.Join(", ", arguments)}, static {parameter} => {factory});");
            return;
        }

        var construction = type.Shape switch
        {
            TypeShape.Nullable => $"NullableFormatter<{argumentTypes[0]}>",
            TypeShape.Lazy => $"LazyFormatter<{argumentTypes[0]}>",
            TypeShape.Array => $"ArrayFormatter<{argumentTypes[0]}>",
            TypeShape.List when type.IsConcreteCollection => $"ListFormatter<{argumentTypes[0]}>",
            TypeShape.List => $"CollectionInterfaceFormatter<{type.Key}, {argumentTypes[0]}>",
            TypeShape.Dictionary when type.IsConcreteCollection => $"DictionaryFormatter<{argumentTypes[0]}, {argumentTypes[1]}>",
            _ => $"DictionaryInterfaceFormatter<{type.Key}, {argumentTypes[0]}, {argumentTypes[1]}>",
        };
        writer.WriteLine($"public static readonly {EmitContext.Serialization}.IRpcFormatter<{type.Key}> {type.Identifier} =");
        writer.WriteLine($"    new {EmitContext.Serialization}.{construction}({string.Join(", ", arguments)});");
    }

    // public sealed class ColorFormatter : global::RpcGen.Serialization.IRpcFormatter<global::Acme.Color>
    // {
    //     public void Serialize(ref MessagePackWriter writer, global::Acme.Color value) => writer.Write((int)value);
    //     public global::Acme.Color Deserialize(ref MessagePackReader reader) => (global::Acme.Color)reader.ReadInt32();
    // }
    private static void EmitEnum(SourceWriter writer, TypeSpec type)
    {
        var underlying = type.EnumUnderlyingType!;
        var read = underlying switch
        {
            "byte" => "ReadByte",
            "sbyte" => "ReadSByte",
            "short" => "ReadInt16",
            "ushort" => "ReadUInt16",
            "uint" => "ReadUInt32",
            "long" => "ReadInt64",
            "ulong" => "ReadUInt64",
            _ => "ReadInt32",
        };
        OpenFormatterClass(writer, type);
        writer.WriteLine($"public void Serialize(ref {EmitContext.Writer} writer, {type.Key} value) => writer.Write(({underlying})value);");
        writer.WriteLine();
        writer.WriteLine($"public {type.Key} Deserialize(ref {EmitContext.Reader} reader) => ({type.Key})reader.{read}();");
        writer.Close();
    }

    // public sealed class HelloReplyFormatter : global::RpcGen.Serialization.IRpcFormatter<global::Acme.HelloReply>
    // {
    //     public void Serialize(ref MessagePackWriter writer, global::Acme.HelloReply value)
    //     {
    //         if (value is null) { writer.WriteNil(); return; }
    //         writer.WriteArrayHeader(2);
    //         <member 0 formatter>.Serialize(ref writer, value.Message!);
    //         ...
    //     }
    //     public global::Acme.HelloReply Deserialize(ref MessagePackReader reader)
    //     {
    //         if (reader.TryReadNil()) { return null!; }
    //         var count = reader.ReadArrayHeader();
    //         ... read members by position, skipping unknown ones ...
    //         return new global::Acme.HelloReply { Message = message, Lines = lines };
    //     }
    // }
    private static void EmitDto(SourceWriter writer, EmitContext context, TypeSpec type)
    {
        var dto = type.Dto!;
        OpenFormatterClass(writer, type);
        writer.Open($"public void Serialize(ref {EmitContext.Writer} writer, {type.Key} value)");
        if (!type.IsValueType)
        {
            writer.Open("if (value is null)");
            writer.WriteLine("writer.WriteNil();");
            writer.WriteLine("return;");
            writer.Close();
            writer.WriteLine();
        }

        EmitWriteMembers(writer, context, dto);
        writer.Close();
        writer.WriteLine();
        writer.Open($"public {type.Key} Deserialize(ref {EmitContext.Reader} reader)");
        if (!type.IsValueType)
        {
            writer.Open("if (reader.TryReadNil())");
            writer.WriteLine("return null!;");
            writer.Close();
            writer.WriteLine();
        }

        EmitReadMembers(writer, context, type.Key, dto);
        writer.Close();
        writer.Close();
    }

    // public sealed class ShapeFormatter : global::RpcGen.Serialization.IRpcFormatter<global::Acme.Shape>
    // {
    //     public void Serialize(ref MessagePackWriter writer, global::Acme.Shape value)
    //     {
    //         if (value is null) { writer.WriteNil(); return; }
    //         var type = value.GetType();
    //         if (type == typeof(global::Acme.Circle)) { writer.WriteArrayHeader(2); writer.Write(1); CircleFormatter.Instance.Serialize(ref writer, (global::Acme.Circle)value); }
    //         else throw new global::RpcGen.RpcException(InvalidPayload, ...);
    //     }
    //     public global::Acme.Shape Deserialize(ref MessagePackReader reader)
    //     {
    //         if (reader.TryReadNil()) { return null!; }
    //         [tag, payload] → switch (tag) { case 1: result = CircleFormatter.Instance.Deserialize(ref reader); ... default: throw }
    //     }
    // }
    private static void EmitPolymorphic(SourceWriter writer, EmitContext context, TypeSpec type)
    {
        const int BaseTag = -1;
        var baseName = type.Key.Replace("global::", string.Empty);
        OpenFormatterClass(writer, type);
        writer.Open($"public void Serialize(ref {EmitContext.Writer} writer, {type.Key} value)");
        writer.Open("if (value is null)");
        writer.WriteLine("writer.WriteNil();");
        writer.WriteLine("return;");
        writer.Close();
        writer.WriteLine();

        // Exact type checks, not type patterns: a subtype nobody listed must fail rather than travel
        // as its nearest listed ancestor and silently lose its own members.
        writer.WriteLine("var type = value.GetType();");
        var keyword = "if";
        foreach (var known in type.KnownTypes)
        {
            writer.Open($"{keyword} (type == typeof({known.TypeKey}))");
            writer.WriteLine("writer.WriteArrayHeader(2);");
            writer.WriteLine($"writer.Write({known.Tag});");
            writer.WriteLine($"{context.FormatterOf(known.TypeKey)}.Serialize(ref writer, ({known.TypeKey})value);");
            writer.Close();
            keyword = "else if";
        }

        if (type.Dto is { } baseDto)
        {
            writer.Open($"{keyword} (type == typeof({type.Key}))");
            writer.WriteLine("writer.WriteArrayHeader(2);");
            writer.WriteLine($"writer.Write({BaseTag});");
            EmitWriteMembers(writer, context, baseDto);
            writer.Close();
            keyword = "else if";
        }

        writer.Open(keyword == "if" ? null : "else");
        writer.WriteLine($"throw new {EmitContext.Runtime}.RpcException({EmitContext.Runtime}.RpcStatusCode.InvalidPayload, $\"'{{type}}' is not a known type of '{baseName}'; list it with [RpcKnownType].\");");
        writer.Close();
        writer.Close();
        writer.WriteLine();

        writer.Open($"public {type.Key} Deserialize(ref {EmitContext.Reader} reader)");
        writer.Open("if (reader.TryReadNil())");
        writer.WriteLine("return null!;");
        writer.Close();
        writer.WriteLine();
        writer.Open("if (reader.ReadArrayHeader() != 2)");
        writer.WriteLine($"throw new global::MessagePack.MessagePackSerializationException(\"A '{baseName}' is a two-element array [tag, value].\");");
        writer.Close();
        writer.WriteLine();
        writer.WriteLine($"{EmitContext.Serialization}.RpcSerializer.EnterNested(ref reader);");
        writer.WriteLine($"{type.Key} result;");
        writer.WriteLine("var tag = reader.ReadInt32();");
        writer.Open("switch (tag)");
        foreach (var known in type.KnownTypes)
        {
            writer.WriteLine($"case {known.Tag}:");
            writer.WriteLine($"    result = {context.FormatterOf(known.TypeKey)}.Deserialize(ref reader);");
            writer.WriteLine("    break;");
        }

        if (type.Dto is not null)
        {
            writer.WriteLine($"case {BaseTag}:");
            writer.WriteLine("    result = ReadBase(ref reader);");
            writer.WriteLine("    break;");
        }

        writer.WriteLine("default:");
        writer.WriteLine($"    throw new global::MessagePack.MessagePackSerializationException($\"Tag {{tag}} is not a known type of '{baseName}'.\");");
        writer.Close();
        writer.WriteLine();
        writer.WriteLine("reader.Depth--;");
        writer.WriteLine("return result;");
        writer.Close();

        if (type.Dto is { } dto)
        {
            writer.WriteLine();
            writer.Open($"private static {type.Key} ReadBase(ref {EmitContext.Reader} reader)");
            writer.Open("if (reader.TryReadNil())");
            writer.WriteLine("return null!;");
            writer.Close();
            writer.WriteLine();
            EmitReadMembers(writer, context, type.Key, dto);
            writer.Close();
        }

        writer.Close();
    }

    private static void OpenFormatterClass(SourceWriter writer, TypeSpec type)
    {
        var name = type.Identifier + "Formatter";
        writer.WriteLine(EmitContext.GeneratedCodeAttribute);
        writer.Open($"public sealed class {name} : {EmitContext.Serialization}.IRpcFormatter<{type.Key}>");
        writer.WriteLine($"public static readonly {name} Instance = new();");
        writer.WriteLine();
    }

    // writer.WriteArrayHeader(n); then each position's member, or nil for a gap.
    private static void EmitWriteMembers(SourceWriter writer, EmitContext context, DtoSpec dto)
    {
        writer.WriteLine($"writer.WriteArrayHeader({dto.Length});");
        var byPosition = dto.Members.ToDictionary(m => m.Position);
        for (var position = 0; position < dto.Length; position++)
        {
            if (byPosition.TryGetValue(position, out var member))
            {
                var bang = EmitContext.Bang(member.Type, member.TypeKey, member.IsValueType);
                writer.WriteLine($"{context.FormatterOf(member.TypeKey)}.Serialize(ref writer, value.{member.Name}{bang});");
            }
            else
            {
                writer.WriteLine("writer.WriteNil();");
            }
        }
    }

    // var count = reader.ReadArrayHeader(); read each known position into a local, skip the rest,
    // then build the value through the chosen constructor and an object initializer.
    private static void EmitReadMembers(SourceWriter writer, EmitContext context, string typeKey, DtoSpec dto)
    {
        var locals = EmitContext.LocalNames(dto.Members.Select(m => m.Name), "reader", "count", "index", "value", "result", "type", "tag");
        var localOf = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < dto.Members.Count; i++)
        {
            localOf[dto.Members[i].Name] = locals[i];
        }

        writer.WriteLine("var count = reader.ReadArrayHeader();");
        writer.WriteLine($"{EmitContext.Serialization}.RpcSerializer.EnterNested(ref reader);");
        for (var i = 0; i < dto.Members.Count; i++)
        {
            var member = dto.Members[i];
            writer.WriteLine($"{member.Type} {locals[i]} = {EmitContext.DefaultOf(member.Type, member.IsValueType)};");
        }

        writer.Open("for (var index = 0; index < count; index++)");
        writer.Open("switch (index)");
        for (var i = 0; i < dto.Members.Count; i++)
        {
            var member = dto.Members[i];
            var bang = EmitContext.Bang(member.Type, member.TypeKey, member.IsValueType);
            writer.WriteLine($"case {member.Position}:");
            writer.WriteLine($"    {locals[i]} = {context.FormatterOf(member.TypeKey)}.Deserialize(ref reader){bang};");
            writer.WriteLine("    break;");
        }

        writer.WriteLine("default:");
        writer.WriteLine($"    {EmitContext.Serialization}.MessagePackSkipper.Skip(ref reader);");
        writer.WriteLine("    break;");
        writer.Close();
        writer.Close();
        writer.WriteLine();
        writer.WriteLine("reader.Depth--;");

        // Settable members an older peer did not send keep whatever the constructor gave them.
        EmitContext.EmitConstruction(writer, typeKey, dto, localOf, member => $"count > {member.Position}");
    }
}
