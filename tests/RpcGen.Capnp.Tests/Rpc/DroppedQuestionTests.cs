using System.Runtime.CompilerServices;
using static RpcGen.Capnp.Tests.Rpc.TestProtocol;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>Tests that watch process-wide exception events run alone, so no other test's exceptions reach them.</summary>
[CollectionDefinition(nameof(WatchesProcessExceptions), DisableParallelization = true)]
public sealed class WatchesProcessExceptions;

/// <summary>
/// A <see cref="CallPromise"/> with pipelined capabilities taken from it, disposed (or cancelled) before
/// its answer arrives, over a real TCP loopback connection. A drop the caller asked for is quiet (no
/// exception thrown or left unobserved); the pipelined capabilities keep working after a drop (as in
/// Cap'n Proto's reference implementation: the pipeline keeps the question alive) and fail with
/// <see cref="RpcStatusCode.Cancelled"/> after a cancellation; the answer that arrives later is released,
/// and both connections' tables return to where they started.
/// </summary>
[Collection(nameof(WatchesProcessExceptions))]
public sealed class DroppedQuestionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const int Promises = 20;

    [Fact]
    public async Task Dropping_promises_before_their_answers_is_quiet_and_their_pipelines_keep_working()
    {
        await using var fixture = await GatedFixture.StartAsync();
        using var watch = new ExceptionWatch();

        await DropThenUsePipelinesAsync(fixture, watch).WaitAsync(Timeout);
        await fixture.AssertTablesAtBaselineAsync();
        await fixture.Server.AllCountersDisposed(Promises).WaitAsync(Timeout);
        watch.AssertNoneUnobserved();
    }

    [Fact]
    public async Task Cancelling_promises_before_their_answers_is_quiet_and_breaks_their_pipelines()
    {
        await using var fixture = await GatedFixture.StartAsync();
        using var watch = new ExceptionWatch();

        await CancelThenUsePipelinesAsync(fixture, watch).WaitAsync(Timeout);
        await fixture.AssertTablesAtBaselineAsync();
        watch.AssertNoneUnobserved();
    }

    // Kept out of the test methods so that no local of theirs keeps a dropped promise's tasks reachable.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task DropThenUsePipelinesAsync(GatedFixture fixture, ExceptionWatch watch)
    {
        var counters = new Capability[Promises];
        var increments = new Task<ulong>[Promises];
        for (var i = 0; i < Promises; i++)
        {
            var promise = fixture.NewCounterWhenOpened();
            counters[i] = promise.GetPipelinedCapability(0);
            increments[i] = IncrementAsync(counters[i]);
            promise.Dispose();
        }

        Assert.Equal(2 * Promises, fixture.ClientStats().Questions); // each call, and the increment pipelined on it
        fixture.Server.Open();
        foreach (var increment in increments)
        {
            Assert.Equal(11ul, await increment);
        }

        Assert.Equal(0, watch.Thrown);

        // A call made after the answer arrived goes to the counter the answer held.
        Assert.Equal(12ul, await IncrementAsync(counters[0]));
        foreach (var counter in counters)
        {
            counter.Dispose();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task CancelThenUsePipelinesAsync(GatedFixture fixture, ExceptionWatch watch)
    {
        var counters = new Capability[Promises];
        for (var i = 0; i < Promises; i++)
        {
            using var cancellation = new CancellationTokenSource();
            var promise = fixture.NewCounterWhenOpened(cancellation.Token);
            counters[i] = promise.GetPipelinedCapability(0);
            await cancellation.CancelAsync();
            promise.Dispose();
        }

        fixture.Server.Open();

        // The answers came after our Finish (releaseResultCaps): the server released their capabilities itself.
        await fixture.Server.AllCountersDisposed(Promises);
        Assert.Equal(0, watch.Thrown);

        // Calls made on the pipelines afterwards fail, saying why.
        foreach (var counter in counters)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => IncrementAsync(counter));
            Assert.Equal(RpcStatusCode.Cancelled, error.StatusCode);
            counter.Dispose();
        }
    }

    /// <summary>A TCP loopback server whose bootstrap is a <see cref="GatedCounterFactory"/>, and a client connected to it.</summary>
    private sealed class GatedFixture : IAsyncDisposable
    {
        private readonly CapnpServer _listener;
        private readonly Capability _service;

        private GatedFixture(CapnpServer listener, CapnpConnection client, Capability service, GatedCounterFactory server, CapnpConnectionStats clientBaseline, CapnpConnectionStats serverBaseline)
        {
            _listener = listener;
            Client = client;
            _service = service;
            Server = server;
            ClientBaseline = clientBaseline;
            ServerBaseline = serverBaseline;
        }

        public CapnpConnection Client { get; }

        public GatedCounterFactory Server { get; }

        private CapnpConnectionStats ClientBaseline { get; }

        private CapnpConnectionStats ServerBaseline { get; }

        public static async Task<GatedFixture> StartAsync()
        {
            var server = new GatedCounterFactory();
            using var bootstrap = Capability.FromServer(server);
            var listener = CapnpServer.Listen("tcp://127.0.0.1:0", bootstrap);
            var client = await CapnpConnection.ConnectAsync(listener.Address).WaitAsync(Timeout);
            var service = client.Bootstrap();

            // One call resolves the bootstrap, so the baselines hold its import and export only.
            Assert.Equal(0ul, await CountersOpenAsync(service).WaitAsync(Timeout));
            var clientBaseline = await EventuallyAsync(() => Task.FromResult(client.GetStats()), s => s.Questions == 0, Timeout);
            var serverBaseline = await EventuallyAsync(() => Task.FromResult(listener.Connections.Single().GetStats()), s => s.Answers == 0, Timeout);
            return new GatedFixture(listener, client, service, server, clientBaseline, serverBaseline);
        }

        public CallPromise NewCounterWhenOpened(CancellationToken cancellationToken = default)
        {
            using var request = _service.NewRequest(GatedCounterFactory.InterfaceId, GatedCounterFactory.NewCounterWhenOpened);
            return request.Send(cancellationToken);
        }

        public CapnpConnectionStats ClientStats() => Client.GetStats();

        /// <summary>Both connections' tables are back to what they held before the test's calls (bounded wait).</summary>
        public async Task AssertTablesAtBaselineAsync()
        {
            var client = await EventuallyAsync(() => Task.FromResult(Client.GetStats()), s => s == ClientBaseline, Timeout);
            var server = await EventuallyAsync(() => Task.FromResult(_listener.Connections.Single().GetStats()), s => s == ServerBaseline, Timeout);
            Assert.Equal(ClientBaseline, client);
            Assert.Equal(ServerBaseline, server);
        }

        public async ValueTask DisposeAsync()
        {
            _service.Dispose();
            await Client.DisposeAsync();
            await _listener.DisposeAsync();
        }

        private static async Task<ulong> CountersOpenAsync(Capability service)
        {
            using var request = service.NewRequest(GatedCounterFactory.InterfaceId, GatedCounterFactory.CountersDisposed);
            using var promise = request.Send();
            using var response = await promise;
            return response.Results.ReadUInt64(0);
        }
    }

    /// <summary>
    /// Method 0 answers with a new <see cref="CounterServer"/> (starting at 10) once <see cref="Open"/> is
    /// called, so every call made before that is answered only after the test has dropped its promise.
    /// Method 1 answers how many of those counters have been disposed.
    /// </summary>
    private sealed class GatedCounterFactory : ICapabilityServer
    {
        public const ulong InterfaceId = 0xd2a7_61c0_5e3b_0001;
        public const ushort NewCounterWhenOpened = 0;
        public const ushort CountersDisposed = 1;

        private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly object _gate = new();
        private int _disposed;
        private (int Count, TaskCompletionSource Signal)? _waiter;

        public void Open() => _opened.TrySetResult();

        /// <summary>Completes once <paramref name="count"/> counters have been disposed.</summary>
        public Task AllCountersDisposed(int count)
        {
            lock (_gate)
            {
                if (_disposed >= count)
                {
                    return Task.CompletedTask;
                }

                _waiter = (count, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                return _waiter.Value.Signal.Task;
            }
        }

        public async Task DispatchAsync(CallContext context)
        {
            switch (context.MethodId)
            {
                case NewCounterWhenOpened:
                {
                    // Deliberately not cancelled with the call: the answer must arrive after the caller's Finish.
                    await _opened.Task.ConfigureAwait(false);
                    using var counter = Capability.FromServer(new CounterServer(10, OnCounterDisposed));
                    context.InitResults(0, 1).WriteCapability(0, counter);
                    break;
                }

                case CountersDisposed:
                    context.InitResults(1, 0).WriteUInt64(0, (ulong)Volatile.Read(ref _disposed));
                    break;

                default:
                    throw new RpcException(RpcStatusCode.Unimplemented, "No such method.");
            }
        }

        private void OnCounterDisposed()
        {
            TaskCompletionSource? signal = null;
            lock (_gate)
            {
                _disposed++;
                if (_waiter is { } waiter && _disposed >= waiter.Count)
                {
                    signal = waiter.Signal;
                    _waiter = null;
                }
            }

            signal?.TrySetResult();
        }
    }

    /// <summary>
    /// Records, from when it is made until disposed, the Cap'n Proto exceptions this process throws and
    /// those left in faulted tasks nobody observed (found by forcing the collector and the finalizers).
    /// Garbage left by earlier tests is flushed first; the collection runs alone, so nothing else runs meanwhile.
    /// </summary>
    private sealed class ExceptionWatch : IDisposable
    {
        private readonly List<Exception> _unobserved = [];
        private int _thrown;

        public ExceptionWatch()
        {
            Flush();
            TaskScheduler.UnobservedTaskException += OnUnobserved;
            AppDomain.CurrentDomain.FirstChanceException += OnFirstChance;
        }

        /// <summary>Cancellation exceptions thrown so far.</summary>
        public int Thrown => Volatile.Read(ref _thrown);

        public void AssertNoneUnobserved()
        {
            Flush();
            lock (_unobserved)
            {
                Assert.True(_unobserved.Count == 0, $"{_unobserved.Count} unobserved task exception(s), the first: {_unobserved.FirstOrDefault()}");
            }
        }

        public void Dispose()
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
            AppDomain.CurrentDomain.FirstChanceException -= OnFirstChance;
        }

        private static void Flush()
        {
            for (var i = 0; i < 2; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }

        private static bool IsCapnpCallError(Exception error) => error is RpcException or OperationCanceledException;

        private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.InnerExceptions.Any(IsCapnpCallError))
            {
                lock (_unobserved)
                {
                    _unobserved.Add(e.Exception);
                }
            }
        }

        private void OnFirstChance(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
        {
            if (e.Exception is RpcException { StatusCode: RpcStatusCode.Cancelled } or OperationCanceledException)
            {
                Interlocked.Increment(ref _thrown);
            }
        }
    }
}
