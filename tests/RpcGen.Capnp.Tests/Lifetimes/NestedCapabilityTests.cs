using RpcGen.Links;
using RpcGen.Samples.Calculator;

namespace RpcGen.Capnp.Tests.Lifetimes;

/// <summary>
/// A capability inside a parameter struct (a function in a calculator expression) follows the same
/// rule as a parameter itself: lent to the call, released when it returns unless the implementation
/// retains it. The client sees it as its own function object being disposed, without any garbage
/// collection.
/// </summary>
public sealed class NestedCapabilityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_function_nested_in_an_expression_is_released_when_the_call_returns()
    {
        await using var pair = await CalculatorPair.StartAsync(new ConstantCalculator());
        var function = new DisposableFunction();

        using var value = (IDisposable)pair.Calculator.Evaluate(Expression.Call.Of(function, new Expression.Literal(1)));
        Assert.Equal(7, await ((IValue)value).ReadAsync().WaitAsync(Timeout));

        await function.Disposed.WaitAsync(Timeout);
        Assert.Equal(0, function.Calls);
    }

    [Fact]
    public async Task A_function_the_sample_calculator_retains_for_its_evaluation_is_released_when_the_evaluation_ends()
    {
        await using var pair = await CalculatorPair.StartAsync(new CalculatorService());
        var function = new DisposableFunction();

        // The evaluation calls the function after Evaluate has returned (the value is pipelined).
        using var value = (IDisposable)pair.Calculator.Evaluate(Expression.Call.Of(function, new Expression.Literal(3), new Expression.Literal(4)));
        Assert.Equal(7, await ((IValue)value).ReadAsync().WaitAsync(Timeout));

        await function.Disposed.WaitAsync(Timeout);
        Assert.Equal(1, function.Calls);
    }

    /// <summary>Ignores the expression: every value is 7.</summary>
    private sealed class ConstantCalculator : ICalculator
    {
        public IValue Evaluate(Expression expression) => new Seven();

        public IFunction DefFunction(int paramCount, Expression body) => throw new RpcException(RpcStatusCode.Unimplemented, "Not used here.");

        public IFunction GetOperator(Operator op) => throw new RpcException(RpcStatusCode.Unimplemented, "Not used here.");

        private sealed class Seven : IValue
        {
            public Task<double> ReadAsync() => Task.FromResult(7.0);
        }
    }

    /// <summary>A client-side function (the sum of its parameters) that counts its calls and signals its disposal.</summary>
    private sealed class DisposableFunction : IFunction, IDisposable
    {
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public Task Disposed => _disposed.Task;

        public int Calls => Volatile.Read(ref _calls);

        public Task<double> CallAsync(double[] @params)
        {
            Interlocked.Increment(ref _calls);
            return Task.FromResult(@params.Sum());
        }

        public void Dispose() => _disposed.TrySetResult();
    }

    /// <summary>A calculator served over an in-memory link, and our client of it.</summary>
    private sealed class CalculatorPair : IAsyncDisposable
    {
        private readonly CapnpConnection _server;
        private readonly CapnpConnection _client;

        private CalculatorPair(CapnpConnection server, CapnpConnection client)
        {
            _server = server;
            _client = client;
            Calculator = client.Bootstrap<ICalculator>();
        }

        public ICalculator Calculator { get; }

        public static Task<CalculatorPair> StartAsync(ICalculator implementation)
        {
            var (clientLink, serverLink) = RpcLinks.CreateMemoryPair();
            using var bootstrap = CapnpServiceRegistry.ToCapability(implementation);
            var server = CapnpConnection.Start(serverLink, new CapnpConnectionOptions { Bootstrap = bootstrap });
            return Task.FromResult(new CalculatorPair(server, CapnpConnection.Start(clientLink)));
        }

        public async ValueTask DisposeAsync()
        {
            (Calculator as IDisposable)?.Dispose();
            await _client.DisposeAsync();
            await _server.DisposeAsync();
        }
    }
}
