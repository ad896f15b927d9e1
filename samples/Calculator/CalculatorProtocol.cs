using T = RpcGen.Capnp.CapnpFieldType;

using RpcGen.Capnp;

namespace RpcGen.Samples.Calculator;

/// <summary>
/// Hand-written bindings for the Calculator protocol of Cap'n Proto's C++ samples
/// (<c>calculator.capnp</c>: interface <c>Calculator @0x97983392df35cc36</c>) over the low-level API
/// of the capability transport. Layouts are computed from shapes with <see cref="CapnpLayout"/>;
/// a test checks them against the schema compiler's.
/// </summary>
public static class CalculatorProtocol
{
    public const ulong CalculatorId = 0x97983392df35cc36;
    public const ulong ValueId = 0xc3e69d34d3ee48d2;
    public const ulong FunctionId = 0xede83a3d96840394;

    public const ushort Evaluate = 0, DefFunction = 1, GetOperator = 2;

    public enum Operator : ushort
    {
        Add = 0,
        Subtract = 1,
        Multiply = 2,
        Divide = 3,
    }

    public static readonly StructShape ExpressionShape = new("Expression",
    [
        new UnionShape(string.Empty,
        [
            new FieldShape("literal", 0, T.Float64),
            new FieldShape("previousResult", 1, T.InterfaceNamed("Value")),
            new FieldShape("parameter", 2, T.UInt32),
            new GroupShape("call", [new FieldShape("function", 3, T.InterfaceNamed("Function")), new FieldShape("params", 4, T.ListOf(T.StructNamed("Expression")))]),
        ]),
    ]);

    public static readonly StructLayout Expression = CapnpLayout.Compute(ExpressionShape);
    public static readonly StructLayout EvaluateParams = CapnpLayout.ComputeParameters([("expression", T.StructNamed("Expression"))]);
    public static readonly StructLayout EvaluateResults = CapnpLayout.ComputeParameters([("value", T.InterfaceNamed("Value"))]);
    public static readonly StructLayout DefFunctionParams = CapnpLayout.ComputeParameters([("paramCount", T.Int32), ("body", T.StructNamed("Expression"))]);
    public static readonly StructLayout FunctionResults = CapnpLayout.ComputeParameters([("func", T.InterfaceNamed("Function"))]);
    public static readonly StructLayout GetOperatorParams = CapnpLayout.ComputeParameters([("op", T.EnumNamed("Operator"))]);
    public static readonly StructLayout ReadResults = CapnpLayout.ComputeParameters([("value", T.Float64)]);
    public static readonly StructLayout CallParams = CapnpLayout.ComputeParameters([("params", T.ListOf(T.Float64))]);
    public static readonly StructLayout CallResults = CapnpLayout.ComputeParameters([("value", T.Float64)]);

    public static int Tag => Expression.Unions[string.Empty].DiscriminantOffset;

    public static int Slot(this StructLayout layout, string path) => layout.Fields[path].Offset;

    public static StructBuilder InitStruct(this PointerBuilder pointer, StructLayout layout) => pointer.InitStruct((ushort)layout.DataWords, (ushort)layout.PointerCount);

    // ----- client side -----

    /// <summary><c>evaluate(expression)</c>; the value capability can be pipelined at once.</summary>
    public static CallPromise EvaluateExpression(Capability calculator, Expr expression)
    {
        using var request = calculator.NewRequest(CalculatorId, Evaluate);
        var p = request.Params.InitStruct(EvaluateParams);
        expression.WriteTo(p.GetPointer(EvaluateParams.Slot("expression")).InitStruct(Expression));
        return request.Send();
    }

    public static Capability PipelinedValue(this CallPromise evaluate) => evaluate.GetPipelinedCapability((ushort)EvaluateResults.Slot("value"));

    public static Capability PipelinedFunction(this CallPromise promise) => promise.GetPipelinedCapability((ushort)FunctionResults.Slot("func"));

    public static CallPromise GetOperatorFunction(Capability calculator, Operator op)
    {
        using var request = calculator.NewRequest(CalculatorId, GetOperator);
        request.Params.InitStruct(GetOperatorParams).WriteUInt16(GetOperatorParams.Slot("op"), (ushort)op);
        return request.Send();
    }

    public static CallPromise DefineFunction(Capability calculator, int paramCount, Expr body)
    {
        using var request = calculator.NewRequest(CalculatorId, DefFunction);
        var p = request.Params.InitStruct(DefFunctionParams);
        p.WriteInt32(DefFunctionParams.Slot("paramCount"), paramCount);
        body.WriteTo(p.GetPointer(DefFunctionParams.Slot("body")).InitStruct(Expression));
        return request.Send();
    }

    public static async Task<double> ReadAsync(Capability value)
    {
        using var request = value.NewRequest(ValueId, 0);
        using var promise = request.Send();
        using var response = await promise;
        return response.Results.ReadFloat64(ReadResults.Slot("value"));
    }

    public static async Task<double> CallFunctionAsync(Capability function, IReadOnlyList<double> arguments)
    {
        using var request = function.NewRequest(FunctionId, 0);
        var list = request.Params.InitStruct(CallParams).InitList(CallParams.Slot("params"), ElementSize.EightBytes, arguments.Count);
        for (var i = 0; i < arguments.Count; i++)
        {
            list.SetFloat64(i, arguments[i]);
        }

        using var promise = request.Send();
        using var response = await promise;
        return response.Results.ReadFloat64(CallResults.Slot("value"));
    }
}
