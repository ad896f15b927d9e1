namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// User code never runs on a connection's reader unless asked to: a handler, a callback served on
/// the client or a cancellation callback that blocks its thread holds up only itself. Each default
/// case has an <see cref="RpcHandlerExecution.Inline"/> twin showing the same test fails when the
/// reader runs the handler.
/// </summary>
public sealed class HandlerExecutionTests
{
    // How long a handler blocks when nothing opens its gate. Generous where progress is expected
    // (a busy machine must not fail the test); short where it is impossible, so the twin ends soon.
    private static readonly TimeSpan Patient = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Hopeless = TimeSpan.FromSeconds(1);

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_blocked_handler_does_not_hold_up_a_concurrent_call_on_its_connection(string transport)
    {
        var service = new BlockingService(Patient);
        await using var server = await StartServerAsync(transport, service, RpcHandlerExecution.ThreadPool);
        await using var client = await ConnectAsync(server);
        var proxy = client.GetService<IBlockingService>();

        var blocked = proxy.BlockAsync();
        await WaitAsync(service.Entered);
        Assert.Equal("next", await proxy.EchoAsync("next").WaitAsync(TransportFixture.Timeout));
        service.Gate.Set();
        Assert.Equal(1, await blocked.WaitAsync(TransportFixture.Timeout));
    }

    [Fact]
    public async Task Inline_a_blocked_handler_holds_up_its_connection()
    {
        var service = new BlockingService(Hopeless);
        await using var server = await StartServerAsync("tcp", service, RpcHandlerExecution.Inline);
        await using var client = await ConnectAsync(server);
        var proxy = client.GetService<IBlockingService>();

        var blocked = proxy.BlockAsync();
        await WaitAsync(service.Entered);
        var echo = proxy.EchoAsync("next");

        // The echo is only read once the handler gives up on its gate, which only the echo opens.
        var failure = await Assert.ThrowsAsync<RpcException>(() => blocked.WaitAsync(TransportFixture.Timeout));
        Assert.Contains("The gate stayed shut", failure.Message);
        Assert.Equal("next", await echo.WaitAsync(TransportFixture.Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_handler_that_waits_synchronously_for_a_callback_completes(string transport)
    {
        await using var server = await StartServerAsync(transport, new BlockingService(Patient), RpcHandlerExecution.ThreadPool);
        await using var client = await ConnectAsync(server);
        var proxy = client.GetService<IBlockingService>();

        Assert.Equal(7, await proxy.AskSynchronouslyAsync(new FixedNumberSource(7)).WaitAsync(TransportFixture.Timeout));
        Assert.Equal(8, await proxy.AskSynchronouslyAsync(new FixedNumberSource(8)).WaitAsync(TransportFixture.Timeout));
    }

    [Fact]
    public async Task Inline_a_handler_that_waits_synchronously_for_a_callback_deadlocks_until_it_gives_up()
    {
        await using var server = await StartServerAsync("tcp", new BlockingService(Hopeless), RpcHandlerExecution.Inline);
        await using var client = await ConnectAsync(server);
        var proxy = client.GetService<IBlockingService>();

        var failure = await Assert.ThrowsAsync<RpcException>(() => proxy.AskSynchronouslyAsync(new FixedNumberSource(7)).WaitAsync(TransportFixture.Timeout));
        Assert.Contains("The callback never answered", failure.Message);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_blocked_callback_on_the_client_does_not_hold_up_the_clients_other_calls(string transport)
    {
        await using var server = await StartServerAsync(transport, new BlockingService(Patient), RpcHandlerExecution.ThreadPool);
        await using var client = await ConnectAsync(server);
        var proxy = client.GetService<IBlockingService>();
        var source = new BlockingNumberSource(Patient);

        var asked = proxy.AskAsync(source);
        await WaitAsync(source.Entered);
        Assert.Equal("next", await proxy.EchoAsync("next").WaitAsync(TransportFixture.Timeout));
        source.Gate.Set();
        Assert.Equal(42, await asked.WaitAsync(TransportFixture.Timeout));
    }

    [Fact]
    public async Task Inline_a_blocked_callback_on_the_client_holds_up_the_clients_other_calls()
    {
        await using var server = await StartServerAsync("tcp", new BlockingService(Patient), RpcHandlerExecution.ThreadPool);
        await using var client = await ConnectAsync(server, RpcHandlerExecution.Inline);
        var proxy = client.GetService<IBlockingService>();
        var source = new BlockingNumberSource(Hopeless);

        var asked = proxy.AskAsync(source);
        await WaitAsync(source.Entered);
        var echo = proxy.EchoAsync("next");

        var failure = await Assert.ThrowsAsync<RpcException>(() => asked.WaitAsync(TransportFixture.Timeout));
        Assert.Contains("The gate stayed shut", failure.Message);
        Assert.Equal("next", await echo.WaitAsync(TransportFixture.Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_blocking_cancellation_callback_does_not_hold_up_the_connection(string transport)
    {
        var service = new BlockingService(Patient);
        await using var server = await StartServerAsync(transport, service, RpcHandlerExecution.ThreadPool);
        await using var client = await ConnectAsync(server);
        var proxy = client.GetService<IBlockingService>();

        using var cancellation = new CancellationTokenSource();
        var waiting = proxy.WaitForCancellationAsync(cancellation.Token);
        await WaitAsync(service.Entered);
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TransportFixture.Timeout));

        // The server reads the Cancel frame and fires the token; the registration blocks until this
        // echo, read after it on the same connection, has been answered.
        Assert.Equal("next", await proxy.EchoAsync("next").WaitAsync(TransportFixture.Timeout));
        service.CancelGate.Set();
    }

    private static async Task<RpcServer> StartServerAsync(string transport, BlockingService service, RpcHandlerExecution execution)
    {
        var server = new RpcServer(TransportFixture.ServerOptions(transport, new RpcServerOptions { HandlerExecution = execution }));
        server.AddService<IBlockingService>(service);
        await server.StartAsync(TransportFixture.NewAddress(transport));
        return server;
    }

    private static Task<RpcClient> ConnectAsync(RpcServer server, RpcHandlerExecution execution = RpcHandlerExecution.ThreadPool) =>
        TransportFixture.ConnectToAsync(server.Addresses[0], new RpcClientOptions { HandlerExecution = execution });

    private static async Task WaitAsync(ManualResetEventSlim signal) =>
        Assert.True(await Task.Run(() => signal.Wait(TransportFixture.Timeout)), "The handler never started.");
}
