using System.Buffers;
using RpcGen.Generators.Tests.Contracts;
using RpcGen.Generators.Tests.Infrastructure;

namespace RpcGen.Generators.Tests;

/// <summary>A generated proxy calls a generated dispatcher through serialized bytes only: they agree on every call shape.</summary>
public class ProxyDispatcherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private sealed class Greeter : IGreeter
    {
        public TaskCompletionSource<string> Notified { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<string> Logged { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<bool> SayHelloCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Pings { get; private set; }

        public async Task<HelloReply> SayHelloAsync(HelloRequest request, CancellationToken cancellationToken = default)
        {
            if (request.Name == "wait")
            {
                // Waits until the caller's token, carried to the server call, fires.
                var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await using var registration = cancellationToken.Register(() => cancelled.TrySetResult());
                await cancelled.Task;
                SayHelloCancelled.TrySetResult(true);
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (request.Name == "fail")
            {
                throw new InvalidOperationException("no greeting for you");
            }

            return new HelloReply
            {
                Message = $"Hello {request.Name}",
                Lines = [.. Enumerable.Repeat(request.Name, request.Times)],
            };
        }

        public void Notify(string message) => Notified.TrySetResult(message);

        public ValueTask<int> AddAsync(int a, int b) => new(a + b);

        public Task PingAsync()
        {
            Pings++;
            return Task.CompletedTask;
        }

        public ValueTask LogAsync(string line)
        {
            Logged.TrySetResult(line);
            return default;
        }
    }

    private static (IGreeter Proxy, Greeter Implementation, LoopbackChannel Channel) Connect()
    {
        var implementation = new Greeter();
        var channel = new LoopbackChannel(RpcServiceRegistry.CreateDispatcher<IGreeter>(implementation));
        return (channel.GetService<IGreeter>(), implementation, channel);
    }

    [Fact]
    public async Task UnaryCallCarriesRequestAndResponse()
    {
        var (proxy, _, _) = Connect();

        var reply = await proxy.SayHelloAsync(new HelloRequest("Ada", 2), TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal("Hello Ada", reply.Message);
        Assert.Equal(["Ada", "Ada"], reply.Lines!);
    }

    [Fact]
    public async Task PinnedValueTaskMethodReturnsItsResult()
    {
        var (proxy, _, _) = Connect();

        Assert.Equal(5, await proxy.AddAsync(2, 3).AsTask().WaitAsync(Timeout, TestContext.Current.CancellationToken));
        Assert.Equal(7u, GreeterRpc.AddAsync.Id);
    }

    [Fact]
    public async Task CallWithoutParametersOrResultCompletes()
    {
        var (proxy, implementation, _) = Connect();

        await proxy.PingAsync().WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(1, implementation.Pings);
    }

    [Fact]
    public async Task OneWayCallsReachTheImplementation()
    {
        var (proxy, implementation, channel) = Connect();

        proxy.Notify("note");
        await proxy.LogAsync("line");

        Assert.Equal("note", await implementation.Notified.Task.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        Assert.Equal("line", await implementation.Logged.Task.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        Assert.Equal(2, channel.OneWayCompletions.Count);
        Assert.All(channel.OneWayCompletions, completion => Assert.True(completion.IsCompletedSuccessfully));
    }

    [Fact]
    public async Task ImplementationFailureReachesTheCaller()
    {
        var (proxy, _, _) = Connect();

        var error = await Assert.ThrowsAsync<RpcException>(() => proxy.SayHelloAsync(new HelloRequest("fail", 1)));

        Assert.Equal(RpcStatusCode.Failed, error.StatusCode);
        Assert.Equal("no greeting for you", error.Message);
    }

    [Fact]
    public async Task CallerCancellationReachesTheImplementation()
    {
        var (proxy, implementation, _) = Connect();
        using var cancellation = new CancellationTokenSource();

        var call = proxy.SayHelloAsync(new HelloRequest("wait", 1), cancellation.Token);
        Assert.False(call.IsCompleted);
        await cancellation.CancelAsync();

        Assert.True(await implementation.SayHelloCancelled.Task.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Timeout, TestContext.Current.CancellationToken));
        Assert.Equal(RpcStatusCode.Cancelled, error.StatusCode);
    }

    [Fact]
    public void DispatcherFindsEveryMethodAndNothingElse()
    {
        var dispatcher = RpcServiceRegistry.CreateDispatcher<IGreeter>(new Greeter());

        Assert.Same(GreeterRpc.Service, dispatcher.Service);
        Assert.Same(GreeterRpc.SayHelloAsync, dispatcher.FindMethod(GreeterRpc.SayHelloAsync.Id));
        Assert.Same(GreeterRpc.Notify, dispatcher.FindMethod(GreeterRpc.Notify.Id));
        Assert.Same(GreeterRpc.AddAsync, dispatcher.FindMethod(7));
        Assert.Same(GreeterRpc.PingAsync, dispatcher.FindMethod(GreeterRpc.PingAsync.Id));
        Assert.Same(GreeterRpc.LogAsync, dispatcher.FindMethod(GreeterRpc.LogAsync.Id));
        Assert.Null(dispatcher.FindMethod(8));
        Assert.Equal(RpcMethodKind.OneWay, GreeterRpc.Notify.Kind);
        Assert.Equal(RpcMethodKind.Unary, GreeterRpc.PingAsync.Kind);
    }

    [Fact]
    public void UnknownMethodIsUnimplemented()
    {
        var dispatcher = RpcServiceRegistry.CreateDispatcher<IGreeter>(new Greeter());
        var stranger = new RpcMethod<RpcVoid, RpcVoid>(GreeterRpc.Service, "Stranger", 12345, RpcMethodKind.Unary, Serialization.RpcVoidFormatter.Instance, Serialization.RpcVoidFormatter.Instance);

        var error = Assert.Throws<RpcException>(() => dispatcher.DispatchAsync(new LoopbackCall(stranger, default), new ReadOnlySequence<byte>([0xC0])));

        Assert.Equal(RpcStatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public void MalformedRequestIsInvalidPayloadBeforeTheImplementationRuns()
    {
        var implementation = new Greeter();
        var dispatcher = RpcServiceRegistry.CreateDispatcher<IGreeter>(implementation);

        var error = Assert.Throws<RpcException>(() => dispatcher.DispatchAsync(new LoopbackCall(GreeterRpc.PingAsync, default), new ReadOnlySequence<byte>([0xC0, 0xC0])));

        Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
        Assert.Equal(0, implementation.Pings);
    }

    private sealed class Worker : IWorker
    {
        public CancellationToken LastToken { get; private set; }

        public Task<bool> PingAsync(CancellationToken cancellationToken = default)
        {
            LastToken = cancellationToken;
            return Task.FromResult(true);
        }

        public Task<int> WorkAsync(int units) => Task.FromResult(units);

        public Task<int> WorkAsync(int units, string label) => Task.FromResult(units * label.Length);
    }

    [Fact]
    public async Task InheritedMethodsAndOverloadsAreServed()
    {
        var channel = new LoopbackChannel(RpcServiceRegistry.CreateDispatcher<IWorker>(new Worker()));
        var proxy = channel.GetService<IWorker>();

        Assert.True(await proxy.PingAsync(TestContext.Current.CancellationToken));
        Assert.Equal(3, await proxy.WorkAsync(3));
        Assert.Equal(6, await proxy.WorkAsync(3, "ab"));
        Assert.NotEqual(WorkerRpc.WorkAsync.Id, WorkerRpc.WorkAsync_2.Id);
    }

    private sealed class Catalog : ICatalog
    {
        public Task<Everything> EchoEverythingAsync(Everything value) => Task.FromResult(value);

        public Task<Shape?> EchoShapeAsync(Shape? shape) => Task.FromResult(shape);

        public Task<Animal[]> EchoAnimalsAsync(Animal[] animals) => Task.FromResult(animals);

        public Task<IEvent> EchoEventAsync(IEvent value) => Task.FromResult(value);

        public Task<Page<Person>> PageAsync(Page<Person> page, Page<int>? ids) =>
            Task.FromResult(new Page<Person> { Items = page.Items, NextToken = ids is null ? "no ids" : string.Join(",", ids.Items) });

        public Task<Tree> EchoTreeAsync(Tree tree) => Task.FromResult(tree);

        public Task<Pinned> EchoPinnedAsync(Pinned value) => Task.FromResult(value);

        public Task<Point?> EchoPointAsync(Point? point) => Task.FromResult(point);

        public ValueTask<Dictionary<Color, List<Person?>>> GroupAsync(IReadOnlyDictionary<string, Color> colors) =>
            new(colors.GroupBy(pair => pair.Value).ToDictionary(g => g.Key, g => g.Select(pair => (Person?)new Person(pair.Key, 0)).ToList()));
    }

    [Fact]
    public async Task DtoShapesTravelThroughProxyAndDispatcher()
    {
        var proxy = new LoopbackChannel(RpcServiceRegistry.CreateDispatcher<ICatalog>(new Catalog())).GetService<ICatalog>();

        Assert.Equal(new Circle("c", 1), await proxy.EchoShapeAsync(new Circle("c", 1)));
        Assert.Null(await proxy.EchoShapeAsync(null));
        Assert.IsType<Dog>((await proxy.EchoAnimalsAsync([new Dog()]))[0]);
        Assert.Equal(new Started(1), await proxy.EchoEventAsync(new Started(1)));
        Assert.Equal("1,2", (await proxy.PageAsync(new Page<Person>(), new Page<int> { Items = [1, 2] })).NextToken);
        Assert.Equal("no ids", (await proxy.PageAsync(new Page<Person>(), null)).NextToken);
        Assert.Null(await proxy.EchoPointAsync(null));
        Assert.Equal(new Point { X = 1, Y = 2 }, await proxy.EchoPointAsync(new Point { X = 1, Y = 2 }));
        var groups = await proxy.GroupAsync(new Dictionary<string, Color> { ["a"] = Color.Red, ["b"] = Color.Red, ["c"] = Color.Blue });
        Assert.Equal(2, groups[Color.Red].Count);
        Assert.Equal("c", groups[Color.Blue].Single()!.Name);
    }
}
