using RpcGen.Capnp;
using static RpcGen.Samples.Calculator.CalculatorProtocol;

namespace RpcGen.Samples.Calculator;

/// <summary>
/// The five checks of Cap'n Proto's C++ sample client, run against any Calculator: a literal,
/// add and subtract, a pipelined evaluate chain, defined functions, and a function hosted here that
/// the server calls back.
/// </summary>
public static class CalculatorChecks
{
    /// <summary>The checks in the order the C++ client runs them, each with the name it prints.</summary>
    public static IReadOnlyList<(string Name, Func<Capability, Task<string?>> Run)> All { get; } =
    [
        ("Evaluating a literal", LiteralAsync),
        ("Using add and subtract", AddAndSubtractAsync),
        ("Pipelining eval() calls", PipelinedEvaluationsAsync),
        ("Defining functions", DefinedFunctionsAsync),
        ("Using a callback", CallbackAsync),
    ];

    /// <summary>
    /// Runs every check; each yields a failure message or null. A check that throws or outlasts
    /// <paramref name="timeout"/> fails, and the remaining checks still run.
    /// </summary>
    public static async Task<IReadOnlyList<CheckResult>> RunAsync(Capability calculator, TimeSpan timeout, Action<CheckResult>? onResult = null)
    {
        var results = new List<CheckResult>();
        foreach (var (name, run) in All)
        {
            string? failure;
            try
            {
                failure = await run(calculator).WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                failure = $"no answer within {timeout.TotalSeconds:0} s";
            }
            catch (Exception error)
            {
                failure = error.GetType().Name + ": " + error.Message;
            }

            var result = new CheckResult(name, failure);
            results.Add(result);
            onResult?.Invoke(result);
        }

        return results;
    }

    /// <summary><c>evaluate(123)</c>, read through the pipelined value.</summary>
    public static async Task<string?> LiteralAsync(Capability calculator)
    {
        using var evaluate = EvaluateExpression(calculator, new Expr.Literal(123));
        using var value = evaluate.PipelinedValue();
        return Expect(123, await ReadAsync(value));
    }

    /// <summary><c>123 + 45 - 67</c> with the server's operators, fetched by pipelining.</summary>
    public static async Task<string?> AddAndSubtractAsync(Capability calculator)
    {
        using var getAdd = GetOperatorFunction(calculator, Operator.Add);
        using var add = getAdd.PipelinedFunction();
        using var getSubtract = GetOperatorFunction(calculator, Operator.Subtract);
        using var subtract = getSubtract.PipelinedFunction();
        using var evaluate = EvaluateExpression(calculator, new Expr.Call(subtract, new Expr.Call(add, new Expr.Literal(123), new Expr.Literal(45)), new Expr.Literal(67)));
        using var value = evaluate.PipelinedValue();
        return Expect(101, await ReadAsync(value));
    }

    /// <summary><c>(4 * 6) + 3</c>: the second evaluation names the first's unreturned value.</summary>
    public static async Task<string?> PipelinedEvaluationsAsync(Capability calculator)
    {
        using var getAdd = GetOperatorFunction(calculator, Operator.Add);
        using var add = getAdd.PipelinedFunction();
        using var getMultiply = GetOperatorFunction(calculator, Operator.Multiply);
        using var multiply = getMultiply.PipelinedFunction();
        return Expect(27, await PipelinedSumAsync(calculator, add, multiply));
    }

    /// <summary><c>f(x, y) = x * (y + 100)</c> and <c>g(x) = f(x, x * 2)</c>, defined on the server and evaluated there.</summary>
    public static async Task<string?> DefinedFunctionsAsync(Capability calculator)
    {
        using var getAdd = GetOperatorFunction(calculator, Operator.Add);
        using var add = getAdd.PipelinedFunction();
        using var getMultiply = GetOperatorFunction(calculator, Operator.Multiply);
        using var multiply = getMultiply.PipelinedFunction();
        using var defineF = DefineFunction(calculator, 2, new Expr.Call(multiply, new Expr.Parameter(0), new Expr.Call(add, new Expr.Parameter(1), new Expr.Literal(100))));
        using var f = defineF.PipelinedFunction();
        using var defineG = DefineFunction(calculator, 1, new Expr.Call(f, new Expr.Parameter(0), new Expr.Call(multiply, new Expr.Parameter(0), new Expr.Literal(2))));
        using var g = defineG.PipelinedFunction();
        using var evaluateF = EvaluateExpression(calculator, new Expr.Call(f, new Expr.Literal(12), new Expr.Literal(34)));
        using var evaluateG = EvaluateExpression(calculator, new Expr.Call(g, new Expr.Literal(21)));
        using var fValue = evaluateF.PipelinedValue();
        using var gValue = evaluateG.PipelinedValue();
        var readF = ReadAsync(fValue);
        var readG = ReadAsync(gValue);
        return Expect(1608, await readF) ?? Expect(2982, await readG);
    }

    /// <summary><c>2 ^ (4 + 5)</c>, where <c>^</c> is a <see cref="PowerFunction"/> hosted here and called back by the server.</summary>
    public static async Task<string?> CallbackAsync(Capability calculator)
    {
        using var getAdd = GetOperatorFunction(calculator, Operator.Add);
        using var add = getAdd.PipelinedFunction();
        using var power = Capability.FromServer(new PowerFunction());
        using var evaluate = EvaluateExpression(calculator, new Expr.Call(power, new Expr.Literal(2), new Expr.Call(add, new Expr.Literal(4), new Expr.Literal(5))));
        using var value = evaluate.PipelinedValue();
        return Expect(512, await ReadAsync(value));
    }

    /// <summary><c>evaluate(4 * 6)</c>, <c>evaluate(previous + 3)</c> and <c>read()</c>, all sent before any result comes back.</summary>
    public static async Task<double> PipelinedSumAsync(Capability calculator, Capability add, Capability multiply)
    {
        using var product = EvaluateExpression(calculator, new Expr.Call(multiply, new Expr.Literal(4), new Expr.Literal(6)));
        using var productValue = product.PipelinedValue();
        using var sum = EvaluateExpression(calculator, new Expr.Call(add, new Expr.Previous(productValue), new Expr.Literal(3)));
        using var sumValue = sum.PipelinedValue();
        return await ReadAsync(sumValue);
    }

    private static string? Expect(double expected, double actual) => actual == expected ? null : $"expected {expected}, got {actual}";
}
