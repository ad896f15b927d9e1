using static RpcGen.Capnp.Tests.Calculator.CalculatorProtocol;

namespace RpcGen.Capnp.Tests.Calculator;

/// <summary>The calculator session both clients (ours and the C++ one) run: literals, operators, pipelining, defined functions, a callback.</summary>
internal static class CalculatorScenarios
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static async Task RunAsync(Capability calculator)
    {
        // A literal, read through the pipelined value.
        using (var evaluate = EvaluateExpression(calculator, new Expr.Literal(123)))
        using (var value = evaluate.PipelinedValue())
        {
            Assert.Equal(123, await ReadAsync(value).WaitAsync(Timeout));
        }

        using var getAdd = GetOperatorFunction(calculator, Operator.Add);
        using var add = getAdd.PipelinedFunction();
        using var getSubtract = GetOperatorFunction(calculator, Operator.Subtract);
        using var subtract = getSubtract.PipelinedFunction();
        using var getMultiply = GetOperatorFunction(calculator, Operator.Multiply);
        using var multiply = getMultiply.PipelinedFunction();

        // 123 + 45 - 67
        using (var evaluate = EvaluateExpression(calculator, new Expr.Call(subtract, new Expr.Call(add, new Expr.Literal(123), new Expr.Literal(45)), new Expr.Literal(67))))
        using (var value = evaluate.PipelinedValue())
        {
            Assert.Equal(101, await ReadAsync(value).WaitAsync(Timeout));
        }

        // (4 * 6) + 3, the second evaluation pipelined on the first's unreturned value.
        Assert.Equal(27, await PipelinedSumAsync(calculator, add, multiply).WaitAsync(Timeout));

        // f(x, y) = x * (y + 100); g(x) = f(x, x * 2)
        using var defineF = DefineFunction(calculator, 2, new Expr.Call(multiply, new Expr.Parameter(0), new Expr.Call(add, new Expr.Parameter(1), new Expr.Literal(100))));
        using var f = defineF.PipelinedFunction();
        using var defineG = DefineFunction(calculator, 1, new Expr.Call(f, new Expr.Parameter(0), new Expr.Call(multiply, new Expr.Parameter(0), new Expr.Literal(2))));
        using var g = defineG.PipelinedFunction();
        using (var evaluateF = EvaluateExpression(calculator, new Expr.Call(f, new Expr.Literal(12), new Expr.Literal(34))))
        using (var evaluateG = EvaluateExpression(calculator, new Expr.Call(g, new Expr.Literal(21))))
        using (var fValue = evaluateF.PipelinedValue())
        using (var gValue = evaluateG.PipelinedValue())
        {
            Assert.Equal(1608, await ReadAsync(fValue).WaitAsync(Timeout));
            Assert.Equal(2982, await ReadAsync(gValue).WaitAsync(Timeout));
        }

        // 2 ^ (4 + 5), where ^ is ours and called back by the server.
        using var power = Capability.FromServer(new PowerServer());
        using (var evaluate = EvaluateExpression(calculator, new Expr.Call(power, new Expr.Literal(2), new Expr.Call(add, new Expr.Literal(4), new Expr.Literal(5)))))
        using (var value = evaluate.PipelinedValue())
        {
            Assert.Equal(512, await ReadAsync(value).WaitAsync(Timeout));
        }
    }

    /// <summary>evaluate(4 * 6) and evaluate(previous + 3) and read(), all sent before any result.</summary>
    public static async Task<double> PipelinedSumAsync(Capability calculator, Capability add, Capability multiply)
    {
        using var product = EvaluateExpression(calculator, new Expr.Call(multiply, new Expr.Literal(4), new Expr.Literal(6)));
        using var productValue = product.PipelinedValue();
        using var sum = EvaluateExpression(calculator, new Expr.Call(add, new Expr.Previous(productValue), new Expr.Literal(3)));
        using var sumValue = sum.PipelinedValue();
        return await ReadAsync(sumValue);
    }
}
