using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Capnp.Tests.Encoding;

/// <summary>
/// One value of <c>AllTypes</c> from <c>interop/encoding.capnp</c>, written and checked through
/// the offsets that <c>capnp compile</c> reports, so these tests do not depend on our own layout code.
/// </summary>
internal static class AllTypesSample
{
    public const string Schema = "encoding.capnp";

    public const string Text =
        "(boolField = true, int8Field = -5, int16Field = -300, int32Field = 123456, int64Field = -9000000000, " +
        "uint8Field = 250, uint16Field = 65000, uint32Field = 4000000000, uint64Field = 18446744073709551615, " +
        "float32Field = 1.25, float64Field = -2.5, textField = \"héllo ☃\", dataField = \"ab\\x00c\", " +
        "structField = (int32Field = 7, textField = \"inner\"), enumField = blue, int32List = [1, -2, 3], " +
        "textList = [\"a\", \"\", \"ccc\"], structList = [(a = 1, name = \"x\"), (a = 2)], " +
        "boolList = [true, false, true, true, false, false, false, false, true], defaulted = 0, defaultedBool = false, " +
        "defaultedFloat = 3.5, shape = (square = (a = 9, name = \"sq\")), point = (x = 3, y = -4), " +
        "int64List = [9223372036854775807, -1], nestedList = [[1, 2], [], [3]])";

    private static readonly Lazy<Task<CompiledSchema>> s_schema =
        new(() => CapnpTool.CompileAsync(Path.Combine(CapnpTool.InteropDirectory, Schema)));

    public static Task<CompiledSchema> SchemaAsync() => s_schema.Value;

    public static (ushort DataWords, ushort Pointers) SizeOf(CompiledStruct s) => ((ushort)(s.DataBytes / 8), (ushort)s.Pointers);

    public static void Write(StructBuilder root, CompiledSchema schema)
    {
        var t = schema["AllTypes"];
        var inner = schema["Inner"];
        root.WriteBool(t["boolField"].Offset, true);
        root.WriteInt8(t["int8Field"].Offset, -5);
        root.WriteInt16(t["int16Field"].Offset, -300);
        root.WriteInt32(t["int32Field"].Offset, 123456);
        root.WriteInt64(t["int64Field"].Offset, -9000000000);
        root.WriteUInt8(t["uint8Field"].Offset, 250);
        root.WriteUInt16(t["uint16Field"].Offset, 65000);
        root.WriteUInt32(t["uint32Field"].Offset, 4000000000);
        root.WriteUInt64(t["uint64Field"].Offset, ulong.MaxValue);
        root.WriteFloat32(t["float32Field"].Offset, 1.25f);
        root.WriteFloat64(t["float64Field"].Offset, -2.5);
        root.WriteText(t["textField"].Offset, "héllo ☃");
        root.WriteData(t["dataField"].Offset, "ab\0c"u8);

        var (dw, pc) = SizeOf(t);
        var nested = root.InitStruct(t["structField"].Offset, dw, pc);
        nested.WriteInt32(t["int32Field"].Offset, 7);
        nested.WriteText(t["textField"].Offset, "inner");

        root.WriteUInt16(t["enumField"].Offset, 2);
        var ints = root.InitList(t["int32List"].Offset, ElementSize.FourBytes, 3);
        ints.SetInt32(0, 1);
        ints.SetInt32(1, -2);
        ints.SetInt32(2, 3);
        var texts = root.InitList(t["textList"].Offset, ElementSize.Pointer, 3);
        texts.SetText(0, "a");
        texts.SetText(1, string.Empty);
        texts.SetText(2, "ccc");
        var (idw, ipc) = SizeOf(inner);
        var structs = root.InitStructList(t["structList"].Offset, 2, idw, ipc);
        structs.GetStruct(0).WriteUInt32(inner["a"].Offset, 1);
        structs.GetStruct(0).WriteText(inner["name"].Offset, "x");
        structs.GetStruct(1).WriteUInt32(inner["a"].Offset, 2);
        var bools = root.InitList(t["boolList"].Offset, ElementSize.Bit, 9);
        bool[] boolValues = [true, false, true, true, false, false, false, false, true];
        for (var i = 0; i < boolValues.Length; i++)
        {
            bools.SetBool(i, boolValues[i]);
        }

        root.WriteInt32(t["defaulted"].Offset, 0, defaultValue: 42);
        root.WriteBool(t["defaultedBool"].Offset, false, defaultValue: true);
        root.WriteFloat64(t["defaultedFloat"].Offset, 3.5, defaultValue: 1.5);

        root.WriteUInt16(t.UnionTagBits["shape"] / 16, (ushort)t["shape.square"].UnionTag);
        var square = root.InitStruct(t["shape.square"].Offset, idw, ipc);
        square.WriteUInt32(inner["a"].Offset, 9);
        square.WriteText(inner["name"].Offset, "sq");

        root.WriteInt32(t["point.x"].Offset, 3);
        root.WriteInt32(t["point.y"].Offset, -4);

        var longs = root.InitList(t["int64List"].Offset, ElementSize.EightBytes, 2);
        longs.SetInt64(0, long.MaxValue);
        longs.SetInt64(1, -1);
        var outer = root.InitList(t["nestedList"].Offset, ElementSize.Pointer, 3);
        var first = outer.GetPointer(0).InitList(ElementSize.TwoBytes, 2);
        first.SetInt16(0, 1);
        first.SetInt16(1, 2);
        outer.GetPointer(1).InitList(ElementSize.TwoBytes, 0);
        outer.GetPointer(2).InitList(ElementSize.TwoBytes, 1).SetInt16(0, 3);
    }

    public static void AssertMatches(StructReader root, CompiledSchema schema)
    {
        var t = schema["AllTypes"];
        var inner = schema["Inner"];
        Assert.True(root.ReadBool(t["boolField"].Offset));
        Assert.Equal(-5, root.ReadInt8(t["int8Field"].Offset));
        Assert.Equal(-300, root.ReadInt16(t["int16Field"].Offset));
        Assert.Equal(123456, root.ReadInt32(t["int32Field"].Offset));
        Assert.Equal(-9000000000, root.ReadInt64(t["int64Field"].Offset));
        Assert.Equal(250, root.ReadUInt8(t["uint8Field"].Offset));
        Assert.Equal(65000, root.ReadUInt16(t["uint16Field"].Offset));
        Assert.Equal(4000000000u, root.ReadUInt32(t["uint32Field"].Offset));
        Assert.Equal(ulong.MaxValue, root.ReadUInt64(t["uint64Field"].Offset));
        Assert.Equal(1.25f, root.ReadFloat32(t["float32Field"].Offset));
        Assert.Equal(-2.5, root.ReadFloat64(t["float64Field"].Offset));
        Assert.Equal("héllo ☃", root.ReadText(t["textField"].Offset));
        Assert.Equal("ab\0c"u8.ToArray(), root.ReadData(t["dataField"].Offset).ToArray());

        var nested = root.ReadStruct(t["structField"].Offset);
        Assert.Equal(7, nested.ReadInt32(t["int32Field"].Offset));
        Assert.Equal("inner", nested.ReadText(t["textField"].Offset));
        Assert.Equal(42, nested.ReadInt32(t["defaulted"].Offset, 42));
        Assert.True(nested.ReadBool(t["defaultedBool"].Offset, true));
        Assert.False(nested.HasPointer(t["structField"].Offset));

        Assert.Equal(2, root.ReadUInt16(t["enumField"].Offset));
        var ints = root.ReadList(t["int32List"].Offset, ElementSize.FourBytes);
        Assert.Equal([1, -2, 3], Enumerable.Range(0, ints.Count).Select(ints.GetInt32));
        var texts = root.ReadList(t["textList"].Offset, ElementSize.Pointer);
        Assert.Equal(["a", "", "ccc"], Enumerable.Range(0, texts.Count).Select(i => texts.GetText(i)));
        var structs = root.ReadList(t["structList"].Offset, ElementSize.InlineComposite);
        Assert.Equal(2, structs.Count);
        Assert.Equal(1u, structs.GetStruct(0).ReadUInt32(inner["a"].Offset));
        Assert.Equal("x", structs.GetStruct(0).ReadText(inner["name"].Offset));
        Assert.Equal(2u, structs.GetStruct(1).ReadUInt32(inner["a"].Offset));
        Assert.Null(structs.GetStruct(1).ReadText(inner["name"].Offset, null));
        var bools = root.ReadList(t["boolList"].Offset, ElementSize.Bit);
        Assert.Equal([true, false, true, true, false, false, false, false, true], Enumerable.Range(0, bools.Count).Select(bools.GetBool));

        Assert.Equal(0, root.ReadInt32(t["defaulted"].Offset, 42));
        Assert.False(root.ReadBool(t["defaultedBool"].Offset, true));
        Assert.Equal(3.5, root.ReadFloat64(t["defaultedFloat"].Offset, 1.5));

        Assert.Equal(t["shape.square"].UnionTag, root.ReadUInt16(t.UnionTagBits["shape"] / 16));
        var square = root.ReadStruct(t["shape.square"].Offset);
        Assert.Equal(9u, square.ReadUInt32(inner["a"].Offset));
        Assert.Equal("sq", square.ReadText(inner["name"].Offset));

        Assert.Equal(3, root.ReadInt32(t["point.x"].Offset));
        Assert.Equal(-4, root.ReadInt32(t["point.y"].Offset));

        var longs = root.ReadList(t["int64List"].Offset, ElementSize.EightBytes);
        Assert.Equal([long.MaxValue, -1], Enumerable.Range(0, longs.Count).Select(longs.GetInt64));
        var outer = root.ReadList(t["nestedList"].Offset, ElementSize.Pointer);
        Assert.Equal(3, outer.Count);
        var first = outer.GetList(0, ElementSize.TwoBytes);
        Assert.Equal([1, 2], Enumerable.Range(0, first.Count).Select(i => (int)first.GetInt16(i)));
        Assert.Equal(0, outer.GetList(1, ElementSize.TwoBytes).Count);
        Assert.Equal(3, outer.GetList(2, ElementSize.TwoBytes).GetInt16(0));
    }

    public static CapnpMessageBuilder Build(CompiledSchema schema, int firstSegmentWords = CapnpMessageBuilder.DefaultFirstSegmentWords, int maxSegmentWords = 1 << 26)
    {
        var builder = new CapnpMessageBuilder(firstSegmentWords, maxSegmentWords);
        var (dw, pc) = SizeOf(schema["AllTypes"]);
        Write(builder.InitRoot(dw, pc), schema);
        return builder;
    }
}
