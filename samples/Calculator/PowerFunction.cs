using RpcGen.Capnp;
using static RpcGen.Samples.Calculator.CalculatorProtocol;

namespace RpcGen.Samples.Calculator;

/// <summary>A function implemented on the client side, for the server to call back: x to the power y.</summary>
public sealed class PowerFunction : ICapabilityServer
{
    public Task DispatchAsync(CallContext context)
    {
        var list = context.Params.GetStruct().ReadList(CallParams.Slot("params"), ElementSize.EightBytes);
        context.Results.InitStruct(CallResults).WriteFloat64(CallResults.Slot("value"), Math.Pow(list.GetFloat64(0), list.GetFloat64(1)));
        return Task.CompletedTask;
    }
}
