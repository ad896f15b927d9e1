using static RpcGen.Capnp.Tests.Imported.ICalculator;

namespace RpcGen.Capnp.Tests.Imported;

/// <summary>
/// The calculator written against the contract <c>rpcgen capnp import</c> made of <c>calculator.capnp</c>
/// (<see cref="ICalculator"/> in <c>ImportedCalculator.cs</c>): nothing in it was written by hand for
/// Cap'n Proto. Capabilities inside an expression are lent to the call that carried them, so an
/// evaluation that outlives its call retains them and lets them go when it is done.
/// </summary>
internal sealed class ImportedCalculatorService : ICalculator
{
    public IValue Evaluate(Expression expression) => new Result(EvaluateRetainedAsync(Retained(expression), []));

    public IFunction DefFunction(int paramCount, Expression body) => new Defined(paramCount, Retained(body));

    public IFunction GetOperator(Operator op) => new Arithmetic(op);

    private static async Task<double> EvaluateRetainedAsync(Expression expression, double[] arguments)
    {
        try
        {
            return await EvaluateAsync(expression, arguments);
        }
        finally
        {
            ForEachCapability(expression, static capability => (capability as ICapnpProxy)?.Dispose());
        }
    }

    private static async Task<double> EvaluateAsync(Expression expression, double[] arguments)
    {
        switch (expression)
        {
            case Expression.Literal literal:
                return literal.Value;
            case Expression.PreviousResult previous:
                return await previous.Value.ReadAsync();
            case Expression.Parameter parameter when parameter.Value < arguments.Length:
                return arguments[parameter.Value];
            case Expression.Call call:
                var values = new double[call.Params.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = await EvaluateAsync(call.Params[i], arguments);
                }

                return await call.Function.CallAsync(values);
            default:
                throw new RpcException(RpcStatusCode.InvalidPayload, $"Cannot evaluate {expression}.");
        }
    }

    private static Expression Retained(Expression expression)
    {
        ForEachCapability(expression, static capability => CapnpCapability.Retain(capability));
        return expression;
    }

    private static void ForEachCapability(Expression expression, Action<object> action)
    {
        if (expression is Expression.PreviousResult { Value: { } value })
        {
            action(value);
        }
        else if (expression is Expression.Call call)
        {
            action(call.Function);
            Array.ForEach(call.Params, parameter => ForEachCapability(parameter, action));
        }
    }

    private sealed class Result(Task<double> value) : IValue
    {
        public Task<double> ReadAsync() => value;
    }

    private sealed class Arithmetic(Operator op) : IFunction
    {
        public Task<double> CallAsync(double[] @params) => @params.Length != 2
            ? throw new RpcException(RpcStatusCode.InvalidPayload, "An operator takes two parameters.")
            : Task.FromResult(op switch
            {
                Operator.Add => @params[0] + @params[1],
                Operator.Subtract => @params[0] - @params[1],
                Operator.Multiply => @params[0] * @params[1],
                _ => @params[0] / @params[1],
            });
    }

    private sealed class Defined(int paramCount, Expression body) : IFunction, IDisposable
    {
        public Task<double> CallAsync(double[] @params) => @params.Length == paramCount
            ? EvaluateAsync(body, @params)
            : throw new RpcException(RpcStatusCode.InvalidPayload, $"The function takes {paramCount} parameters.");

        public void Dispose() => ForEachCapability(body, static capability => (capability as ICapnpProxy)?.Dispose());
    }
}
