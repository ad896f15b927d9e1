using RpcGen.Capnp;
using static RpcGen.Samples.Calculator.CalculatorProtocol;

namespace RpcGen.Samples.Calculator;

/// <summary>A C# Calculator server: evaluates expressions, calling back into whatever functions they name.</summary>
public sealed class CalculatorServer : ICapabilityServer
{
    public async Task DispatchAsync(CallContext context)
    {
        if (context.InterfaceId != CalculatorId)
        {
            throw new RpcException(RpcStatusCode.Unimplemented, "Not a Calculator method.");
        }

        var p = context.Params.GetStruct();
        switch (context.MethodId)
        {
            case Evaluate:
            {
                var value = await EvaluateAsync(p.ReadStruct(EvaluateParams.Slot("expression")), []);
                using var result = Capability.FromServer(new ValueServer(value));
                context.Results.InitStruct(EvaluateResults).WriteCapability(EvaluateResults.Slot("value"), result);
                break;
            }

            case DefFunction:
            {
                using var function = Capability.FromServer(new FunctionServer(p.ReadInt32(DefFunctionParams.Slot("paramCount")), p.GetPointer(DefFunctionParams.Slot("body"))));
                context.Results.InitStruct(FunctionResults).WriteCapability(FunctionResults.Slot("func"), function);
                break;
            }

            case GetOperator:
            {
                using var function = Capability.FromServer(new OperatorServer((Operator)p.ReadUInt16(GetOperatorParams.Slot("op"))));
                context.Results.InitStruct(FunctionResults).WriteCapability(FunctionResults.Slot("func"), function);
                break;
            }

            default:
                throw new RpcException(RpcStatusCode.Unimplemented, $"Calculator has no method {context.MethodId}.");
        }
    }

    /// <summary>Evaluates an expression; <paramref name="arguments"/> are the values of its parameters.</summary>
    public static async Task<double> EvaluateAsync(StructReader expression, double[] arguments)
    {
        var layout = CalculatorProtocol.Expression;
        var tag = expression.ReadUInt16(Tag);
        if (tag == layout.Fields["literal"].DiscriminantValue)
        {
            return expression.ReadFloat64(layout.Slot("literal"));
        }

        if (tag == layout.Fields["previousResult"].DiscriminantValue)
        {
            using var value = expression.ReadCapability(layout.Slot("previousResult")) ?? throw new RpcException(RpcStatusCode.Failed, "previousResult is null.");
            return await ReadAsync(value);
        }

        if (tag == layout.Fields["parameter"].DiscriminantValue)
        {
            var index = expression.ReadUInt32(layout.Slot("parameter"));
            return index < arguments.Length ? arguments[index] : throw new RpcException(RpcStatusCode.Failed, $"Parameter {index} is out of range.");
        }

        if (tag == layout.Groups["call"])
        {
            using var function = expression.ReadCapability(layout.Slot("call.function")) ?? throw new RpcException(RpcStatusCode.Failed, "call.function is null.");
            var parameters = expression.ReadList(layout.Slot("call.params"), ElementSize.InlineComposite);
            var values = await Task.WhenAll(parameters.Structs().Select(e => EvaluateAsync(e, arguments)));
            return await CallFunctionAsync(function, values);
        }

        throw new RpcException(RpcStatusCode.Unimplemented, $"Unknown expression kind {tag}.");
    }

    private sealed class ValueServer(double value) : ICapabilityServer
    {
        public Task DispatchAsync(CallContext context)
        {
            context.Results.InitStruct(ReadResults).WriteFloat64(ReadResults.Slot("value"), value);
            return Task.CompletedTask;
        }
    }

    private sealed class OperatorServer(Operator op) : ICapabilityServer
    {
        public Task DispatchAsync(CallContext context)
        {
            var list = context.Params.GetStruct().ReadList(CallParams.Slot("params"), ElementSize.EightBytes);
            if (list.Count != 2)
            {
                throw new RpcException(RpcStatusCode.Failed, "An operator takes two parameters.");
            }

            var (a, b) = (list.GetFloat64(0), list.GetFloat64(1));
            context.Results.InitStruct(CallResults).WriteFloat64(CallResults.Slot("value"), op switch
            {
                Operator.Add => a + b,
                Operator.Subtract => a - b,
                Operator.Multiply => a * b,
                _ => a / b,
            });
            return Task.CompletedTask;
        }
    }

    /// <summary>A function defined by an expression; the body (and the capabilities in it) is copied out of the request.</summary>
    private sealed class FunctionServer : ICapabilityServer, IDisposable
    {
        private readonly int _paramCount;
        private readonly CapnpMessageBuilder _body = new();

        public FunctionServer(int paramCount, PointerReader body)
        {
            _paramCount = paramCount;
            _body.Root.CopyFrom(body);
        }

        public async Task DispatchAsync(CallContext context)
        {
            var list = context.Params.GetStruct().ReadList(CallParams.Slot("params"), ElementSize.EightBytes);
            if (list.Count != _paramCount)
            {
                throw new RpcException(RpcStatusCode.Failed, $"Expected {_paramCount} parameters, got {list.Count}.");
            }

            var arguments = Enumerable.Range(0, list.Count).Select(list.GetFloat64).ToArray();
            var value = await EvaluateAsync(_body.AsReader().GetRoot(), arguments);
            context.Results.InitStruct(CallResults).WriteFloat64(CallResults.Slot("value"), value);
        }

        public void Dispose() => _body.Dispose();
    }
}
