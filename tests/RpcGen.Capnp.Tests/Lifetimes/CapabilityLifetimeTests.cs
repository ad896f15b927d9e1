using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace RpcGen.Capnp.Tests.Lifetimes;

/// <summary>
/// Capability lifetimes as the C++ reference implementation keeps them, counted on the wire: a
/// server releases the capabilities a call received when the call returns (unless it retains them),
/// a client releases what it obtained when it disposes the proxy. Every scenario runs against the C++
/// peers and ours, and the release messages a <see cref="Infrastructure.WireTap"/> sees must agree.
/// </summary>
public sealed class CapabilityLifetimeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string, string> ClientsAndServers => new()
    {
        { "csharp", "csharp" },
        { "csharp", "cpp" },
        { "cpp", "csharp" },
        { "cpp", "cpp" },
    };

    public static TheoryData<string> Servers => ["csharp", "cpp"];

    [Theory]
    [MemberData(nameof(ClientsAndServers))]
    public async Task A_server_releases_each_of_20_callbacks_when_its_call_returns(string client, string server)
    {
        await using var peer = await TappedServer.StartAsync(server);

        await peer.RunClientAsync(client, "callbacks", async service =>
        {
            var callbacks = new List<ReplyingCallback>();
            for (var i = 0; i < 20; i++)
            {
                var callback = new ReplyingCallback();
                callbacks.Add(callback);
                Assert.Equal($"cpp got call {i}", await service.CallBackAsync(callback, $"call {i}").WaitAsync(Timeout));
                if (server == "csharp")
                {
                    // Ours releases before it returns: no waiting, and no garbage collector involved.
                    Assert.Equal(i + 1, peer.Tap.Releases(fromClient: false).Count);
                }
            }

            // Each callback was disposed: its last reference anywhere was released.
            await Task.WhenAll(callbacks.Select(c => c.Disposed)).WaitAsync(Timeout);
        });

        var releases = await peer.Tap.WaitForReleasesAsync(fromClient: false, r => r.Count >= 20, Timeout);
        Assert.Equal(20, releases.Count);
        Assert.All(releases, r => Assert.Equal(1u, r.ReferenceCount));
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_retained_capability_is_released_when_the_server_lets_go_of_it(string server)
    {
        await using var peer = await TappedServer.StartAsync(server);
        var (connection, service) = await peer.ConnectAsync();
        await using var _ = connection;
        using var serviceLifetime = service as IDisposable;
        var counter = new LocalCounter(0);

        await service.HoldAsync(counter).WaitAsync(Timeout);
        Assert.Equal("sync", await service.EchoAsync("sync").WaitAsync(Timeout));
        Assert.Empty(peer.Tap.Releases(fromClient: false));
        Assert.Equal(0, counter.Disposals);

        await service.DropHeldAsync().WaitAsync(Timeout);

        var releases = await peer.Tap.WaitForReleasesAsync(fromClient: false, r => r.Count >= 1, Timeout);
        Assert.Equal(1u, Assert.Single(releases).ReferenceCount);
        await EventuallyDisposedAsync(service, counter);
    }

    [Fact]
    public async Task A_capability_stored_without_Retain_is_released_at_return_and_its_next_use_names_the_rule()
    {
        await using var peer = await TappedServer.StartAsync("csharp", new TestServiceImplementation(retainHeld: false));
        var (connection, service) = await peer.ConnectAsync();
        await using var _ = connection;
        using var serviceLifetime = service as IDisposable;
        var counter = new LocalCounter(0);

        await service.HoldAsync(counter).WaitAsync(Timeout);
        Assert.Equal(1u, Assert.Single(peer.Tap.Releases(fromClient: false)).ReferenceCount);
        Assert.Equal(1, counter.Disposals);

        var error = await Assert.ThrowsAsync<RpcException>(() => service.DropHeldAsync().WaitAsync(Timeout));
        Assert.Contains("released when that call returned", error.Message);
        Assert.Contains("CapnpCapability.Retain", error.Message);
        Assert.Contains(typeof(ICounter).FullName!, error.Message);
    }

    [Theory]
    [InlineData("csharp")]
    [InlineData("cpp")]
    public async Task A_client_releases_a_counter_it_got_through_a_pipelined_promise_when_it_drops_it(string client)
    {
        await using var peer = await TappedServer.StartAsync("cpp");

        await peer.RunClientAsync(client, "drop-counter", async service =>
        {
            using (var counter = (IDisposable)service.NewCounter(5))
            {
                Assert.Equal(6ul, await ((ICounter)counter).IncrementAsync().WaitAsync(Timeout));
            }

            Assert.Equal("sync", await service.EchoAsync("sync").WaitAsync(Timeout));
            await peer.Tap.WaitForReleasesAsync(fromClient: true, r => r.Count >= 1, Timeout);
        });

        // The C++ client may release its bootstrap capability too as it exits; the counter's release comes first.
        var releases = peer.Tap.Releases(fromClient: true);
        Assert.NotEmpty(releases);
        Assert.Equal(1u, releases[0].ReferenceCount);
    }

    [Fact]
    public async Task A_client_releases_the_bootstrap_capability_when_its_proxy_is_disposed()
    {
        await using var peer = await TappedServer.StartAsync("cpp");
        var (connection, service) = await peer.ConnectAsync();
        await using var _ = connection;

        Assert.Equal("hello", await service.EchoAsync("hello").WaitAsync(Timeout));
        Assert.Empty(peer.Tap.Releases(fromClient: true));
        ((IDisposable)service).Dispose();

        var releases = await peer.Tap.WaitForReleasesAsync(fromClient: true, r => r.Count >= 1, Timeout);
        Assert.Equal(1u, Assert.Single(releases).ReferenceCount);
    }

    [Fact]
    public async Task A_proxy_nobody_disposed_is_released_by_its_finalizer_with_a_warning_naming_the_interface()
    {
        await using var peer = await TappedServer.StartAsync("cpp");
        var log = new WarningLog();
        var (connection, service) = await peer.ConnectAsync(new CapnpConnectionOptions { Logger = log });
        await using var _ = connection;
        using var serviceLifetime = service as IDisposable;

        Assert.Equal(6ul, await UseCounterWithoutDisposing(service).WaitAsync(Timeout));

        // A fresh frame after this await: nothing of the counter's call is left on the stack.
        Assert.Equal("sync", await service.EchoAsync("sync").WaitAsync(Timeout));
        GC.Collect();
        GC.WaitForPendingFinalizers();

        Assert.Contains(typeof(ICounter).FullName!, await log.FirstWarning.WaitAsync(Timeout));
        await peer.Tap.WaitForReleasesAsync(fromClient: true, r => r.Count >= 1, Timeout);
    }

    // Not inlined, so no reference to the counter's proxy outlives this frame.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Task<ulong> UseCounterWithoutDisposing(ITestService service) => service.NewCounter(5).IncrementAsync();

    /// <summary>Round trips until <paramref name="counter"/> was disposed (the client handles the release on its reader).</summary>
    private static async Task EventuallyDisposedAsync(ITestService service, LocalCounter counter)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        while (counter.Disposals == 0)
        {
            deadline.Token.ThrowIfCancellationRequested();
            await service.EchoAsync("sync").WaitAsync(deadline.Token);
        }

        Assert.Equal(1, counter.Disposals);
    }

    /// <summary>Completes <see cref="FirstWarning"/> with the first leak report logged (event 4012).</summary>
    private sealed class WarningLog : ILogger
    {
        private readonly TaskCompletionSource<string> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<string> FirstWarning => _first.Task;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning && eventId.Id == 4012)
            {
                _first.TrySetResult(formatter(state, exception));
            }
        }
    }
}
