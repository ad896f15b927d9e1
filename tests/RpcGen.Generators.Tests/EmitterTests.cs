using RpcGen.Generators.Emitters;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Tests;

/// <summary>The emitters on their own: hand-built specs in, text out.</summary>
public class EmitterTests
{
    private static EquatableArray<T> Array<T>(params T[] items)
        where T : IEquatable<T> => items.ToEquatableArray();

    private static TypeSpec Builtin(string key, string identifier, bool isValueType = true) =>
        new(key, TypeShape.Builtin, identifier, isValueType, Array<string>(), false, null, null, Array<KnownTypeSpec>());

    private static TypeSpec Composite(string key, TypeShape shape, string identifier, bool concrete, params string[] arguments) =>
        new(key, shape, identifier, false, Array(arguments), concrete, null, null, Array<KnownTypeSpec>());

    private static ServiceSpec Service(EquatableArray<MethodSpec> methods, params TypeSpec[] types) =>
        new("Demo", "global::Demo.IDemo", "Demo.IDemo", "Demo", 0x1122334455667788UL, methods, Array(types), null, null);

    private static MethodSpec Method(string name, uint id, ReturnShape shape, bool oneWay = false, string? result = null, params ParameterSpec[] parameters) =>
        new(name, name, "global::Demo.IDemo", id, shape, oneWay,
            shape switch
            {
                ReturnShape.Void => "void",
                ReturnShape.Task => "global::System.Threading.Tasks.Task",
                ReturnShape.ValueTask => "global::System.Threading.Tasks.ValueTask",
                ReturnShape.TaskOfT => $"global::System.Threading.Tasks.Task<{result}>",
                _ => $"global::System.Threading.Tasks.ValueTask<{result}>",
            },
            result, result, Array(parameters), null);

    [Fact]
    public void WriterIndentsBlocksAndReindentsRawText()
    {
        var writer = new SourceWriter();
        writer.Open("class A");
        writer.WriteLines("""
            int x;

            int y;
            """);
        writer.Open("void M()");
        writer.WriteLine("return;");
        writer.Close();
        writer.Close(";");

        Assert.Equal("class A\n{\n    int x;\n\n    int y;\n    void M()\n    {\n        return;\n    }\n};\n", writer.ToString());
    }

    [Fact]
    public void UnbalancedCloseThrows()
    {
        Assert.Throws<InvalidOperationException>(() => new SourceWriter().Close());
    }

    [Fact]
    public void ContractDescribesServiceAndMethodsWithHexIds()
    {
        var service = Service(Array(
            Method("Get", 0x80000001u, ReturnShape.TaskOfT, result: "int", parameters: new ParameterSpec("key", "Key", "string", "string", false)),
            Method("Ping", 3u, ReturnShape.Task),
            Method("Fire", 0x80000002u, ReturnShape.Void, oneWay: true)),
            Builtin("int", "Int32"), Builtin("string", "String", isValueType: false));

        var text = ContractEmitter.Emit(service);

        Assert.Contains("public static readonly global::RpcGen.RpcServiceInfo Service = new(\"Demo.IDemo\", 0x1122334455667788UL);", text);
        Assert.Contains("public static readonly global::RpcGen.RpcMethod<GetRequest, int> Get = new(", text);
        Assert.Contains("Service, \"Get\", 0x80000001u, global::RpcGen.RpcMethodKind.Unary,", text);
        Assert.Contains("GetRequestFormatter.Instance, global::RpcGen.Serialization.Int32Formatter.Instance);", text);
        Assert.Contains("public static readonly global::RpcGen.RpcMethod<global::RpcGen.RpcVoid, global::RpcGen.RpcVoid> Ping = new(", text);
        Assert.Contains("Service, \"Fire\", 0x80000002u, global::RpcGen.RpcMethodKind.OneWay,", text);
        Assert.Contains("public readonly string Key;", text);
        Assert.Contains("global::RpcGen.Serialization.MessagePackSkipper.Skip(ref reader);", text);
        Assert.DoesNotContain("PingRequest", text);
    }

    [Fact]
    public void ComposedFormattersComeAfterWhatTheyWrap()
    {
        // Listed outermost first, as a walk that meets the list before its elements would.
        var service = Service(
            Array<MethodSpec>(),
            Composite("global::System.Collections.Generic.List<int?[]>", TypeShape.List, "List_Nullable_Int32_Array", true, "int?[]"),
            Composite("int?[]", TypeShape.Array, "Nullable_Int32_Array", true, "int?"),
            Composite("int?", TypeShape.Nullable, "Nullable_Int32", true, "int"),
            Builtin("int", "Int32"));

        var text = FormattersEmitter.Emit(service);

        var nullable = text.IndexOf(" Nullable_Int32 =", StringComparison.Ordinal);
        var array = text.IndexOf(" Nullable_Int32_Array =", StringComparison.Ordinal);
        var list = text.IndexOf(" List_Nullable_Int32_Array =", StringComparison.Ordinal);
        Assert.True(nullable >= 0 && nullable < array && array < list, text);
        Assert.Contains("new global::RpcGen.Serialization.ArrayFormatter<int?>(Formatters.Nullable_Int32);", text);
    }

    [Fact]
    public void InterfaceCollectionsUseTheInterfaceFormatters()
    {
        var service = Service(
            Array<MethodSpec>(),
            Composite("global::System.Collections.Generic.IReadOnlyList<int>", TypeShape.List, "IReadOnlyList_Int32", false, "int"),
            Composite("global::System.Collections.Generic.IDictionary<int, int>", TypeShape.Dictionary, "IDictionary_Int32_Int32", false, "int", "int"),
            Builtin("int", "Int32"));

        var text = FormattersEmitter.Emit(service);

        Assert.Contains("new global::RpcGen.Serialization.CollectionInterfaceFormatter<global::System.Collections.Generic.IReadOnlyList<int>, int>(global::RpcGen.Serialization.Int32Formatter.Instance);", text);
        Assert.Contains("new global::RpcGen.Serialization.DictionaryInterfaceFormatter<global::System.Collections.Generic.IDictionary<int, int>, int, int>(", text);
    }

    [Fact]
    public void DtoWritesNilForGapsAndAssignsSettersOnlyWhenPresent()
    {
        var dto = new TypeSpec(
            "global::Demo.Dto", TypeShape.Dto, "Dto", false, Array<string>(), false, null,
            new DtoSpec(
                Array(
                    new MemberSpec("Id", "int", "int", true, 0, MemberAssignment.Constructor),
                    new MemberSpec("Name", "string?", "string", false, 2, MemberAssignment.Setter),
                    new MemberSpec("Label", "string", "string", false, 3, MemberAssignment.Initializer)),
                Array("Id")),
            Array<KnownTypeSpec>());
        var service = Service(Array<MethodSpec>(), dto, Builtin("int", "Int32"), Builtin("string", "String", isValueType: false));

        var text = FormattersEmitter.Emit(service);

        Assert.Contains("writer.WriteArrayHeader(4);", text);
        var id = text.IndexOf("Int32Formatter.Instance.Serialize(ref writer, value.Id);", StringComparison.Ordinal);
        var gap = text.IndexOf("writer.WriteNil();\n", id, StringComparison.Ordinal);
        var name = text.IndexOf("StringFormatter.Instance.Serialize(ref writer, value.Name!);", StringComparison.Ordinal);
        Assert.True(id < gap && gap < name, text);
        Assert.Contains("string? name = default;", text);
        Assert.Contains("string label = default!;", text);
        Assert.Contains("var result = new global::Demo.Dto(id)", text);
        Assert.Contains("Label = label,", text);
        Assert.Contains("if (count > 2)", text);
        Assert.Contains("result.Name = name;", text);
    }

    [Fact]
    public void LocalNamesAvoidReservedNamesDuplicatesAndKeywords()
    {
        Assert.Equal(
            ["name", "valueValue", "nameValue", "@class", "readerValue"],
            EmitContext.LocalNames(["Name", "Value", "name", "Class", "reader"], "value", "reader"));
    }

    [Fact]
    public void EmittingIsDeterministicAndNamesFilesByService()
    {
        var service = Service(Array(Method("Get", 1u, ReturnShape.ValueTaskOfT, result: "int")), Builtin("int", "Int32"));

        var first = ServiceEmitter.Emit(service).ToList();
        var second = ServiceEmitter.Emit(service).ToList();

        Assert.Equal(first, second);
        Assert.Equal(
            ["Demo.IDemo.Contract.g.cs", "Demo.IDemo.Proxy.g.cs", "Demo.IDemo.Dispatcher.g.cs", "Demo.IDemo.Promise.g.cs", "Demo.IDemo.Formatters.g.cs", "Demo.IDemo.Registration.g.cs"],
            first.Select(f => f.HintName));
        Assert.All(first, f => Assert.StartsWith("// <auto-generated/>\n#nullable enable\n", f.Source, StringComparison.Ordinal));
        Assert.All(first, f => Assert.Contains("[global::System.CodeDom.Compiler.GeneratedCode(\"RpcGen.Generators\", ", f.Source, StringComparison.Ordinal));
    }

    [Fact]
    public void ProxyAdaptsEachReturnShape()
    {
        var service = Service(Array(
            Method("A", 1u, ReturnShape.Task),
            Method("B", 2u, ReturnShape.ValueTask),
            Method("C", 3u, ReturnShape.TaskOfT, result: "int"),
            Method("D", 4u, ReturnShape.ValueTaskOfT, result: "int"),
            Method("E", 5u, ReturnShape.Void, oneWay: true),
            Method("F", 6u, ReturnShape.ValueTask, oneWay: true)),
            Builtin("int", "Int32"));

        var text = ProxyEmitter.Emit(service);

        Assert.Contains("return global::RpcGen.RpcTasks.AsTask(this._channel.InvokeAsync(global::Demo.DemoRpc.A, global::RpcGen.RpcVoid.Value, default));", text);
        Assert.Contains("return this._channel.InvokeVoidAsync(global::Demo.DemoRpc.B, global::RpcGen.RpcVoid.Value, default);", text);
        Assert.Contains("return this._channel.InvokeAsync(global::Demo.DemoRpc.C, global::RpcGen.RpcVoid.Value, default).AsTask();", text);
        Assert.Contains("return this._channel.InvokeAsync(global::Demo.DemoRpc.D, global::RpcGen.RpcVoid.Value, default);", text);
        Assert.Contains("global::RpcGen.RpcOneWay.Forget(this._channel.SendAsync(global::Demo.DemoRpc.E, global::RpcGen.RpcVoid.Value));", text);
        Assert.Contains("return this._channel.SendAsync(global::Demo.DemoRpc.F, global::RpcGen.RpcVoid.Value);", text);
    }

    [Fact]
    public void DispatcherCompletesEachReturnShape()
    {
        var service = Service(Array(
            Method("A", 1u, ReturnShape.Task),
            Method("D", 4u, ReturnShape.ValueTaskOfT, result: "int"),
            Method("E", 5u, ReturnShape.Void, oneWay: true),
            Method("F", 6u, ReturnShape.ValueTask, oneWay: true)),
            Builtin("int", "Int32"));

        var text = DispatcherEmitter.Emit(service);

        Assert.Contains("return call.CompleteAsync(this._implementation.A());", text);
        Assert.Contains("return call.CompleteAsync(this._implementation.D(), global::Demo.DemoRpc.D.ResponseFormatter);", text);
        Assert.Contains("this._implementation.E();\n                return default;", text);
        Assert.Contains("return call.CompleteOneWayAsync(this._implementation.F());", text);
        Assert.Contains("0x00000004u => global::Demo.DemoRpc.D,", text);
        Assert.Contains("global::RpcGen.RpcStatusCode.Unimplemented", text);
    }
}
