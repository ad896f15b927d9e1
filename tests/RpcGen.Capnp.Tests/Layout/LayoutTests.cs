using RpcGen.Capnp.Tests.Encoding;
using RpcGen.Capnp.Tests.Infrastructure;
using T = RpcGen.Capnp.CapnpFieldType;

namespace RpcGen.Capnp.Tests.Layout;

/// <summary>The layout algorithm against <c>capnp compile -ocapnp</c> for hand-written shapes, including rpc.capnp itself.</summary>
public sealed class LayoutTests
{
    private const ulong FileId = 0xe3f1a2b3c4d5e6f7;

    [Fact]
    public async Task AllTypes_shape_is_laid_out_as_the_compiler_lays_out_encoding_capnp()
    {
        var compiled = await AllTypesSample.SchemaAsync();
        var inner = new StructShape("Inner", [new FieldShape("a", 0, T.UInt32), new FieldShape("name", 1, T.Text)]);
        var allTypes = new StructShape("AllTypes",
        [
            new FieldShape("boolField", 0, T.Bool), new FieldShape("int8Field", 1, T.Int8), new FieldShape("int16Field", 2, T.Int16),
            new FieldShape("int32Field", 3, T.Int32), new FieldShape("int64Field", 4, T.Int64), new FieldShape("uint8Field", 5, T.UInt8),
            new FieldShape("uint16Field", 6, T.UInt16), new FieldShape("uint32Field", 7, T.UInt32), new FieldShape("uint64Field", 8, T.UInt64),
            new FieldShape("float32Field", 9, T.Float32), new FieldShape("float64Field", 10, T.Float64), new FieldShape("textField", 11, T.Text),
            new FieldShape("dataField", 12, T.Data), new FieldShape("structField", 13, T.StructNamed("AllTypes")), new FieldShape("enumField", 14, T.EnumNamed("Color")),
            new FieldShape("int32List", 15, T.ListOf(T.Int32)), new FieldShape("textList", 16, T.ListOf(T.Text)), new FieldShape("structList", 17, T.ListOf(T.StructNamed("Inner"))),
            new FieldShape("boolList", 18, T.ListOf(T.Bool)), new FieldShape("defaulted", 19, T.Int32, "42"), new FieldShape("defaultedBool", 20, T.Bool, "true"),
            new FieldShape("defaultedFloat", 21, T.Float64, "1.5"),
            new UnionShape("shape", [new FieldShape("circle", 22, T.Float64), new FieldShape("square", 23, T.StructNamed("Inner")), new FieldShape("empty", 24, T.Void)]),
            new GroupShape("point", [new FieldShape("x", 25, T.Int32), new FieldShape("y", 26, T.Int32)]),
            new FieldShape("int64List", 27, T.ListOf(T.Int64)), new FieldShape("nestedList", 28, T.ListOf(T.ListOf(T.Int16))),
        ]);

        LayoutAssert.SameAsCompiler(compiled["Inner"], CapnpLayout.Compute(inner));
        LayoutAssert.SameAsCompiler(compiled["AllTypes"], CapnpLayout.Compute(allTypes));
    }

    [Fact]
    public async Task Explicit_union_ordinal_nested_unions_and_groups_in_unions_match_the_compiler()
    {
        var shape = new StructShape("A",
        [
            new FieldShape("a", 0, T.UInt16),
            new UnionShape("u", [new FieldShape("b", 1, T.UInt32), new FieldShape("c", 3, T.Bool)], Ordinal: 2),
            new UnionShape("v",
            [
                new FieldShape("w", 4, T.Void),
                new GroupShape("g", [new FieldShape("h", 5, T.UInt8), new FieldShape("i", 6, T.Text)]),
                new UnionShape("nested", [new FieldShape("n1", 7, T.UInt64), new FieldShape("n2", 8, T.Int8)]),
            ]),
            new UnionShape(string.Empty, [new FieldShape("p", 9, T.Float32), new FieldShape("q", 10, T.ListOf(T.Bool))]),
        ]);

        var compiled = await CompileAsync(CapnpSchemaWriter.Write(FileId, [shape]));

        LayoutAssert.SameAsCompiler(compiled["A"], CapnpLayout.Compute(shape));
        Assert.Equal(2, compiled["A"].GroupUnionTags["v.nested"]);
    }

    [Fact]
    public async Task Rpc_capnp_messages_are_laid_out_as_the_compiler_lays_them_out()
    {
        var compiled = await CapnpTool.CompileAsync("/usr/include/capnp/rpc.capnp");
        var payload = new StructShape("Payload", [new FieldShape("content", 0, T.AnyPointer), new FieldShape("capTable", 1, T.ListOf(T.StructNamed("CapDescriptor")))]);
        var call = new StructShape("Call",
        [
            new FieldShape("questionId", 0, T.UInt32), new FieldShape("target", 1, T.StructNamed("MessageTarget")),
            new FieldShape("interfaceId", 2, T.UInt64), new FieldShape("methodId", 3, T.UInt16),
            new FieldShape("allowThirdPartyTailCall", 8, T.Bool, "false"), new FieldShape("params", 4, T.StructNamed("Payload")),
            new UnionShape("sendResultsTo", [new FieldShape("caller", 5, T.Void), new FieldShape("yourself", 6, T.Void), new FieldShape("thirdParty", 7, T.AnyPointer)]),
        ]);
        var ret = new StructShape("Return",
        [
            new FieldShape("answerId", 0, T.UInt32), new FieldShape("releaseParamCaps", 1, T.Bool, "true"),
            new UnionShape(string.Empty,
            [
                new FieldShape("results", 2, T.StructNamed("Payload")), new FieldShape("exception", 3, T.StructNamed("Exception")),
                new FieldShape("canceled", 4, T.Void), new FieldShape("resultsSentElsewhere", 5, T.Void),
                new FieldShape("takeFromOtherQuestion", 6, T.UInt32), new FieldShape("acceptFromThirdParty", 7, T.AnyPointer),
            ]),
        ]);
        var capDescriptor = new StructShape("CapDescriptor",
        [
            new UnionShape(string.Empty,
            [
                new FieldShape("none", 0, T.Void), new FieldShape("senderHosted", 1, T.UInt32), new FieldShape("senderPromise", 2, T.UInt32),
                new FieldShape("receiverHosted", 3, T.UInt32), new FieldShape("receiverAnswer", 4, T.StructNamed("PromisedAnswer")),
                new FieldShape("thirdPartyHosted", 5, T.StructNamed("ThirdPartyCapDescriptor")),
            ]),
            new FieldShape("attachedFd", 6, T.UInt8, "0xff"),
        ]);
        var disembargo = new StructShape("Disembargo",
        [
            new FieldShape("target", 0, T.StructNamed("MessageTarget")),
            new UnionShape("context", [new FieldShape("senderLoopback", 1, T.UInt32), new FieldShape("receiverLoopback", 2, T.UInt32), new FieldShape("accept", 3, T.Void), new FieldShape("provide", 4, T.UInt32)]),
        ]);
        var exception = new StructShape("Exception",
        [
            new FieldShape("reason", 0, T.Text), new FieldShape("type", 3, T.EnumNamed("Type")), new FieldShape("obsoleteIsCallersFault", 1, T.Bool),
            new FieldShape("obsoleteDurability", 2, T.UInt16), new FieldShape("trace", 4, T.Text),
        ]);

        LayoutAssert.SameAsCompiler(compiled["Payload"], CapnpLayout.Compute(payload));
        LayoutAssert.SameAsCompiler(compiled["Call"], CapnpLayout.Compute(call));
        LayoutAssert.SameAsCompiler(compiled["Return"], CapnpLayout.Compute(ret));
        LayoutAssert.SameAsCompiler(compiled["CapDescriptor"], CapnpLayout.Compute(capDescriptor));
        LayoutAssert.SameAsCompiler(compiled["Disembargo"], CapnpLayout.Compute(disembargo));
        LayoutAssert.SameAsCompiler(compiled["Exception"], CapnpLayout.Compute(exception));
    }

    [Fact]
    public void Method_parameters_take_ordinals_by_position()
    {
        var layout = CapnpLayout.ComputeParameters([("a", T.Int32), ("b", T.Text), ("c", T.Bool)]);

        Assert.Equal(1, layout.DataWords);
        Assert.Equal(1, layout.PointerCount);
        Assert.Equal(0, layout.Fields["a"].Offset);
        Assert.Equal(32, layout.Fields["c"].BitOffset);
    }

    [Theory]
    [InlineData("skipped")]
    [InlineData("duplicate")]
    [InlineData("tiny union")]
    [InlineData("empty group")]
    [InlineData("two unnamed unions")]
    public async Task Shapes_the_compiler_rejects_are_rejected(string kind)
    {
        var shape = kind switch
        {
            "skipped" => new StructShape("S", [new FieldShape("a", 0, T.Int32), new FieldShape("b", 2, T.Int32)]),
            "duplicate" => new StructShape("S", [new FieldShape("a", 0, T.Int32), new FieldShape("b", 0, T.Int32)]),
            "tiny union" => new StructShape("S", [new UnionShape("u", [new FieldShape("a", 0, T.Int32)])]),
            "empty group" => new StructShape("S", [new FieldShape("a", 0, T.Int32), new GroupShape("g", [])]),
            _ => new StructShape("S",
            [
                new UnionShape(string.Empty, [new FieldShape("a", 0, T.Int32), new FieldShape("b", 1, T.Int32)]),
                new UnionShape(string.Empty, [new FieldShape("c", 2, T.Int32), new FieldShape("d", 3, T.Int32)]),
            ]),
        };

        Assert.Throws<CapnpLayoutException>(() => CapnpLayout.Compute(shape));
        var result = await CompileRawAsync(CapnpSchemaWriter.Write(FileId, [shape]));
        Assert.NotEqual(0, result.ExitCode);
    }

    [Fact]
    public void Schema_text_has_the_declarations_in_schema_language()
    {
        var text = CapnpSchemaWriter.Write(
            FileId,
            [new StructShape("Point", [new FieldShape("x", 0, T.Int32, "7"), new GroupShape("g", [new FieldShape("y", 1, T.ListOf(T.Text))])], Id: 0xabcdef0123456789)],
            [new EnumShape("Color", ["red", "green"])],
            [new InterfaceShape("Calc", [new MethodShape("add", 0, [("a", T.Int32), ("b", T.Int32)], [("sum", T.Int64)])])]);

        Assert.Equal(
            "@0xe3f1a2b3c4d5e6f7;\n\nenum Color {\n  red @0;\n  green @1;\n}\n\nstruct Point @0xabcdef0123456789 {\n  x @0 :Int32 = 7;\n  g :group {\n    y @1 :List(Text);\n  }\n}\n\ninterface Calc {\n  add @0 (a :Int32, b :Int32) -> (sum :Int64);\n}\n",
            text);
    }

    internal static async Task<CompiledSchema> CompileAsync(string schemaText)
    {
        var result = await CompileRawAsync(schemaText);
        Assert.True(result.ExitCode == 0, result.Stderr + "\n" + schemaText);
        return CompiledSchema.Parse(result.StdoutText);
    }

    internal static async Task<ExternalTool.Result> CompileRawAsync(string schemaText)
    {
        var directory = Directory.CreateTempSubdirectory("rpcgen-capnp-layout-");
        try
        {
            var path = Path.Combine(directory.FullName, "shape.capnp");
            await File.WriteAllTextAsync(path, schemaText);
            return await ExternalTool.RunAsync(CapnpTool.Executable, ["compile", "-ocapnp", path], workingDirectory: directory.FullName);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
