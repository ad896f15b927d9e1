namespace RpcGen.Samples.Calculator;

/// <summary>A C# Calculator: evaluates expressions, calling back into whatever functions they name.</summary>
public sealed class CalculatorService : ICalculator
{
    /// <inheritdoc />
    /// <remarks>The value is returned before the evaluation ends, so the evaluation keeps the expression's capabilities until then.</remarks>
    public IValue Evaluate(Expression expression) => new Value(EvaluateAndReleaseAsync(ExpressionCapabilities.Retain(expression)));

    /// <inheritdoc />
    /// <remarks>The function keeps the body's capabilities until it is released.</remarks>
    public IFunction DefFunction(int paramCount, Expression body) => new DefinedFunction(paramCount, ExpressionCapabilities.Retain(body));

    /// <inheritdoc />
    public IFunction GetOperator(Operator op) => new OperatorFunction(op);

    /// <summary>Evaluates an expression; <paramref name="arguments"/> are the values of its parameters.</summary>
    public static async Task<double> EvaluateAsync(Expression expression, double[] arguments) => expression switch
    {
        Expression.Literal literal => literal.Value,
        Expression.PreviousResult previous => await (previous.Value ?? throw new RpcException(RpcStatusCode.Failed, "previousResult is null.")).ReadAsync(),
        Expression.Parameter parameter => parameter.Index < arguments.Length
            ? arguments[parameter.Index]
            : throw new RpcException(RpcStatusCode.Failed, $"Parameter {parameter.Index} is out of range."),
        Expression.Call call => await (call.Function ?? throw new RpcException(RpcStatusCode.Failed, "call.function is null."))
            .CallAsync(await Task.WhenAll(call.Params.Select(e => EvaluateAsync(e, arguments)))),
        _ => throw new RpcException(RpcStatusCode.Unimplemented, $"Unknown expression kind {expression.GetType().Name}."),
    };

    private static async Task<double> EvaluateAndReleaseAsync(Expression expression)
    {
        try
        {
            return await EvaluateAsync(expression, []);
        }
        finally
        {
            ExpressionCapabilities.ReleaseRetained(expression);
        }
    }

    /// <summary>A value being computed; reading it waits for the computation (so a failure reaches the reader).</summary>
    private sealed class Value(Task<double> value) : IValue
    {
        public Task<double> ReadAsync() => value;
    }

    private sealed class OperatorFunction(Operator op) : IFunction
    {
        public Task<double> CallAsync(double[] @params)
        {
            if (@params.Length != 2)
            {
                throw new RpcException(RpcStatusCode.Failed, "An operator takes two parameters.");
            }

            var (a, b) = (@params[0], @params[1]);
            return Task.FromResult(op switch
            {
                Operator.Add => a + b,
                Operator.Subtract => a - b,
                Operator.Multiply => a * b,
                _ => a / b,
            });
        }
    }

    /// <summary>A function defined by an expression; it keeps the capabilities the body names until it is released.</summary>
    private sealed class DefinedFunction(int paramCount, Expression body) : IFunction, IDisposable
    {
        public Task<double> CallAsync(double[] @params) => @params.Length == paramCount
            ? EvaluateAsync(body, @params)
            : throw new RpcException(RpcStatusCode.Failed, $"Expected {paramCount} parameters, got {@params.Length}.");

        public void Dispose() => ExpressionCapabilities.Release(body);
    }
}

/// <summary>A function implemented on the client side, for the server to call back: x to the power y.</summary>
public sealed class PowerFunction : IFunction
{
    /// <inheritdoc />
    public Task<double> CallAsync(double[] @params) => Task.FromResult(Math.Pow(@params[0], @params[1]));
}
