using static RpcGen.Samples.Calculator.Expression;

namespace RpcGen.Samples.Calculator;

/// <summary>
/// The five checks of Cap'n Proto's C++ sample client, run against any Calculator: a literal,
/// add and subtract, a pipelined evaluate chain, defined functions, and a function hosted here that
/// the server calls back.
/// </summary>
public static class CalculatorChecks
{
    /// <summary>The checks in the order the C++ client runs them, each with the name it prints.</summary>
    public static IReadOnlyList<(string Name, Func<ICalculator, Task<string?>> Run)> All { get; } =
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
    public static async Task<IReadOnlyList<CheckResult>> RunAsync(ICalculator calculator, TimeSpan timeout, Action<CheckResult>? onResult = null)
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
    public static async Task<string?> LiteralAsync(ICalculator calculator) =>
        Expect(123, await calculator.Evaluate(new Expression.Literal(123)).ReadAsync());

    /// <summary><c>123 + 45 - 67</c> with the server's operators, fetched by pipelining.</summary>
    public static async Task<string?> AddAndSubtractAsync(ICalculator calculator)
    {
        var add = calculator.GetOperator(Operator.Add);
        var subtract = calculator.GetOperator(Operator.Subtract);
        var value = calculator.Evaluate(Call.Of(subtract, Call.Of(add, new Literal(123), new Literal(45)), new Literal(67)));
        return Expect(101, await value.ReadAsync());
    }

    /// <summary><c>(4 * 6) + 3</c>: the second evaluation names the first's unreturned value.</summary>
    public static async Task<string?> PipelinedEvaluationsAsync(ICalculator calculator) =>
        Expect(27, await PipelinedSumAsync(calculator, calculator.GetOperator(Operator.Add), calculator.GetOperator(Operator.Multiply)));

    /// <summary><c>f(x, y) = x * (y + 100)</c> and <c>g(x) = f(x, x * 2)</c>, defined on the server and evaluated there.</summary>
    public static async Task<string?> DefinedFunctionsAsync(ICalculator calculator)
    {
        var add = calculator.GetOperator(Operator.Add);
        var multiply = calculator.GetOperator(Operator.Multiply);
        var f = calculator.DefFunction(2, Call.Of(multiply, new Parameter(0), Call.Of(add, new Parameter(1), new Literal(100))));
        var g = calculator.DefFunction(1, Call.Of(f, new Parameter(0), Call.Of(multiply, new Parameter(0), new Literal(2))));
        var readF = calculator.Evaluate(Call.Of(f, new Literal(12), new Literal(34))).ReadAsync();
        var readG = calculator.Evaluate(Call.Of(g, new Literal(21))).ReadAsync();
        return Expect(1608, await readF) ?? Expect(2982, await readG);
    }

    /// <summary><c>2 ^ (4 + 5)</c>, where <c>^</c> is a <see cref="PowerFunction"/> hosted here and called back by the server.</summary>
    public static async Task<string?> CallbackAsync(ICalculator calculator)
    {
        var add = calculator.GetOperator(Operator.Add);
        var value = calculator.Evaluate(Call.Of(new PowerFunction(), new Literal(2), Call.Of(add, new Literal(4), new Literal(5))));
        return Expect(512, await value.ReadAsync());
    }

    /// <summary><c>evaluate(4 * 6)</c>, <c>evaluate(previous + 3)</c> and <c>read()</c>, all sent before any result comes back.</summary>
    public static Task<double> PipelinedSumAsync(ICalculator calculator, IFunction add, IFunction multiply)
    {
        var product = calculator.Evaluate(Call.Of(multiply, new Literal(4), new Literal(6)));
        var sum = calculator.Evaluate(Call.Of(add, new PreviousResult(product), new Literal(3)));
        return sum.ReadAsync();
    }

    private static string? Expect(double expected, double actual) => actual == expected ? null : $"expected {expected}, got {actual}";
}
