using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RpcGen.Transport.Message;

namespace RpcGen.Balancing;

/// <summary>
/// A client of a logical service: the resolver names its replicas, the client keeps one reconnecting
/// connection per replica, and each call goes to a ready one chosen by the
/// <see cref="RpcBalancedClientOptions.Policy"/>. It is an <see cref="IRpcChannel"/>, so generated
/// proxies call through it as through an <see cref="RpcClient"/>.
/// </summary>
/// <remarks>
/// <para>
/// Endpoints: the resolver is asked at once, then every <see cref="RpcBalancedClientOptions.ResolveInterval"/>
/// and soon after an endpoint fails; new replicas are connected, vanished ones retired (closed once
/// their calls in flight ended). An endpoint whose connection fails leaves the rotation and reconnects
/// in the background with the client's backoff; one whose server is draining leaves it at once.
/// </para>
/// <para>
/// Calls: a call that certainly did not run (refused before it was sent, or by a draining server:
/// <see cref="RpcException.NotProcessed"/>) is sent to another endpoint, whatever the method. While no
/// endpoint is ready, calls wait (before the first connection succeeds, and with
/// <see cref="RpcClientOptions.WaitForReady"/> or <see cref="RpcWaitForReady"/>) or fail at once with
/// <see cref="RpcStatusCode.Disconnected"/> once every endpoint failed. Calls to <c>[Idempotent]</c>
/// methods may be retried or hedged on other endpoints (<see cref="RpcBalancedClientOptions.Retry"/>,
/// <see cref="RpcBalancedClientOptions.Hedging"/>); retried attempts carry <see cref="AttemptHeader"/>.
/// </para>
/// <para>
/// Streams and callbacks stay on the connection they started on: a streaming call picks its endpoint
/// when it starts and is never moved or retried, and an object passed as a capability (a callback) or
/// received from the server is tied to the connection it crossed; it fails when that connection closes.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// var resolver = new RpcStaticEndpointResolver("catalog", "tcp://10.0.0.1:5000", "tcp://10.0.0.2:5000");
/// await using var client = RpcBalancedClient.Create(resolver, new() { Policy = RpcBalancingPolicy.LeastOutstanding });
/// var catalog = client.GetService&lt;ICatalog&gt;();
/// </code>
/// </example>
public sealed partial class RpcBalancedClient : IRpcChannel, IAsyncDisposable
{
    /// <summary>The request header that carries the attempt number (2, 3, …) on retried and hedged attempts.</summary>
    public const string AttemptHeader = "rpcgen-attempt";

    // A call refused unsent this many times in a row (every endpoint draining, say) fails rather than spin.
    private const int MaxRedirects = 16;

    private readonly IRpcEndpointResolver _resolver;
    private readonly RpcBalancedClientOptions _options;
    private readonly RpcClientOptions _endpointOptions;
    private readonly ILogger _logger;
    private readonly EndpointPicker _picker;
    private readonly CancellationTokenSource _disposing = new();
    private readonly SemaphoreSlim _resolveGate = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Polly.ResiliencePipeline<object?>? _pipeline;

    // The endpoints in the resolver's order; replaced (under _gate) when a resolution changes the set.
    private volatile Subchannel[] _endpoints = [];

    // Endpoints the resolver dropped that may still have calls running (under _gate); closed with the client.
    private readonly List<Subchannel> _retired = new();

    // Completed and replaced (under _gate) whenever an endpoint's readiness or the set changes: what
    // calls waiting for a ready endpoint await.
    private TaskCompletionSource _changed = NewSignal();

    // Completed when something asks for a resolution before the interval is up (an endpoint failed).
    private TaskCompletionSource _resolveRequested = NewSignal();

    // Set when the first resolution finished (with endpoints or none), or failed; before that, calls wait.
    private volatile bool _resolved;
    private volatile Exception? _resolveError;
    private Task _resolving = Task.CompletedTask;

    private RpcBalancedClient(IRpcEndpointResolver resolver, RpcBalancedClientOptions options)
    {
        _resolver = resolver;
        _options = options;
        _logger = options.LoggerFactory?.CreateLogger("RpcGen.Balancing") ?? NullLogger.Instance;
        _picker = EndpointPicker.Create(options.Policy);
        _pipeline = BuildPipeline(options);

        // Each endpoint's connection reconnects, never waits for itself and never re-sends on its own:
        // the balancer waits for any endpoint and retries elsewhere. Deadlines are set per call, here.
        _endpointOptions = options.Client.Clone();
        _endpointOptions.Reconnect ??= RpcReconnectPolicy.Default;
        _endpointOptions.WaitForReady = false;
        _endpointOptions.DefaultTimeout = null;
        _endpointOptions.ResendIdempotentCalls = false;
        _endpointOptions.LoggerFactory ??= options.LoggerFactory;
    }

    /// <summary>The logical name this client resolves.</summary>
    public string Name => _resolver.Name;

    /// <summary>The endpoints' addresses from the last resolution, in the resolver's order.</summary>
    public IReadOnlyList<string> Endpoints => [.. _endpoints.Select(endpoint => endpoint.Address)];

    /// <summary>
    /// Raised after an endpoint's connection changed state (connected, dropped, reconnecting), with its
    /// address, on the thread that made the change; keep handlers short.
    /// </summary>
    public event Action<string, RpcConnectionState>? EndpointStateChanged;

    /// <summary>The endpoints ready for calls now.</summary>
    public IReadOnlyList<string> ReadyEndpoints => [.. _endpoints.Where(endpoint => endpoint.IsReady).Select(endpoint => endpoint.Address)];

    /// <summary>
    /// Creates a client of the service <paramref name="resolver"/> resolves and starts resolving and
    /// connecting in the background; returns at once (calls made meanwhile wait for an endpoint).
    /// </summary>
    public static RpcBalancedClient Create(IRpcEndpointResolver resolver, RpcBalancedClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        options ??= new RpcBalancedClientOptions();
        options.Validate();
        options.Client.ValidateConnection();
        var client = new RpcBalancedClient(resolver, options);
        client._resolving = client.ResolveLoopAsync();
        return client;
    }

    /// <summary>Creates a proxy for the <c>[RpcService]</c> interface <typeparamref name="TService"/> whose calls are balanced.</summary>
    public TService GetService<TService>()
        where TService : class => RpcServiceRegistry.CreateProxy<TService>(this);

    /// <summary>Waits until at least one endpoint is ready (bounded by <paramref name="cancellationToken"/>).</summary>
    public Task WaitForReadyAsync(CancellationToken cancellationToken = default) => WaitForReadyAsync(1, cancellationToken);

    /// <summary>Waits until at least <paramref name="endpoints"/> endpoints are ready, for example to warm every connection before load (bounded by <paramref name="cancellationToken"/>).</summary>
    public async Task WaitForReadyAsync(int endpoints, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(endpoints, 1);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            if (_endpoints.Count(endpoint => endpoint.IsReady) >= endpoints)
            {
                return;
            }

            ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Asks the resolver now and applies its answer before returning (rather than waiting for the interval).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        await ResolveOnceAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops resolving and closes every endpoint's connection; calls still waiting fail with <see cref="RpcStatusCode.Disconnected"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        Subchannel[] endpoints;
        lock (_gate)
        {
            if (_disposing.IsCancellationRequested)
            {
                return;
            }

            _disposing.Cancel();
            endpoints = [.. _endpoints, .. _retired];
            _endpoints = [];
            _retired.Clear();
            Signal(ref _changed);
        }

        try
        {
            await _resolving.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(endpoints.Select(endpoint => endpoint.DisposeAsync().AsTask())).ConfigureAwait(false);
    }

    // ---- Resolution ----------------------------------------------------------------------------

    private async Task ResolveLoopAsync()
    {
        var token = _disposing.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await ResolveOnceAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }

            Task requested;
            lock (_gate)
            {
                requested = _resolveRequested.Task;
            }

            using var wake = CancellationTokenSource.CreateLinkedTokenSource(token);
            var interval = _options.ResolveInterval == Timeout.InfiniteTimeSpan
                ? Task.Delay(Timeout.Infinite, wake.Token)
                : Task.Delay(_options.ResolveInterval, _options.TimeProvider, wake.Token);
            await Task.WhenAny(requested, interval).ConfigureAwait(false);
            await wake.CancelAsync().ConfigureAwait(false);
            lock (_gate)
            {
                if (_resolveRequested.Task.IsCompleted)
                {
                    _resolveRequested = NewSignal();
                }
            }
        }
    }

    private async Task ResolveOnceAsync(CancellationToken cancellationToken)
    {
        await _resolveGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IReadOnlyList<string> addresses;
            try
            {
                addresses = await _resolver.ResolveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                BalancerLog.ResolveFailed(_logger, _resolver.Name, ex.Message);
                _resolveError = ex;
                lock (_gate)
                {
                    _resolved = true;
                    Signal(ref _changed);
                }

                return;
            }

            Apply(addresses);
        }
        finally
        {
            _resolveGate.Release();
        }
    }

    /// <summary>Connects endpoints that are new, retires those that are gone, keeps the rest (and their connections).</summary>
    private void Apply(IReadOnlyList<string> addresses)
    {
        var distinct = addresses.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var started = new List<Subchannel>();
        var retired = new List<Subchannel>();
        lock (_gate)
        {
            if (_disposing.IsCancellationRequested)
            {
                return;
            }

            var current = _endpoints.ToDictionary(endpoint => endpoint.Address, StringComparer.OrdinalIgnoreCase);
            var next = new Subchannel[distinct.Count];
            for (var i = 0; i < distinct.Count; i++)
            {
                if (!current.Remove(distinct[i], out var endpoint))
                {
                    endpoint = new Subchannel(distinct[i], _endpointOptions, _logger, OnEndpointChanged);
                    started.Add(endpoint);
                }

                next[i] = endpoint;
            }

            retired.AddRange(current.Values);
            _retired.RemoveAll(endpoint => endpoint.Inflight == 0);
            _retired.AddRange(retired);
            var changed = started.Count > 0 || retired.Count > 0;
            _endpoints = next;
            _resolveError = null;
            _resolved = true;
            Signal(ref _changed);
            if (changed)
            {
                BalancerLog.Resolved(_logger, _resolver.Name, next.Length, string.Join(", ", distinct));
            }
        }

        foreach (var endpoint in retired)
        {
            endpoint.Retire();
        }

        foreach (var endpoint in started)
        {
            endpoint.Start();
        }
    }

    private void OnEndpointChanged(Subchannel endpoint, bool failed)
    {
        lock (_gate)
        {
            Signal(ref _changed);
            if (failed)
            {
                // The replica may be gone for good (scaled down, rescheduled elsewhere): ask again now.
                _resolveRequested.TrySetResult();
            }
        }

        // Outside the lock: handlers are user code.
        EndpointStateChanged?.Invoke(endpoint.Address, endpoint.State);
    }

    // ---- Picking -------------------------------------------------------------------------------

    private bool WaitsForReady => RpcWaitForReady.Current ?? _options.Client.WaitForReady;

    /// <summary>
    /// A ready endpoint for the next attempt of a call. While there is none: waits until one is, when
    /// the call waits for ready or nothing has failed yet (the client is still connecting); otherwise
    /// fails at once. Bounded by the call's deadline and cancellation.
    /// </summary>
    private async ValueTask<Subchannel> PickAsync(CallAttempts? attempts, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            if (_disposing.IsCancellationRequested)
            {
                throw RpcException.ForNotProcessed(RpcStatusCode.Disconnected, $"The balanced client of {_resolver.Name} is disposed.", "disposed");
            }

            var endpoints = _endpoints;
            if (_picker.Pick(endpoints, attempts) is { } picked)
            {
                return picked;
            }

            if (!WaitsForReady && _resolved && endpoints.All(endpoint => endpoint.State is RpcConnectionState.TransientFailure or RpcConnectionState.Shutdown))
            {
                throw RpcException.ForNotProcessed(RpcStatusCode.Disconnected, NoEndpointMessage(endpoints) + " Set RpcClientOptions.WaitForReady (or RpcWaitForReady) to wait for one instead.", "no endpoint");
            }

            if (RpcDeadline.Current is { } due)
            {
                var left = due - DateTime.UtcNow;
                try
                {
                    if (left <= TimeSpan.Zero)
                    {
                        throw new TimeoutException();
                    }

                    await changed.WaitAsync(left, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    throw new RpcException(RpcStatusCode.DeadlineExceeded, "The deadline passed while waiting for a ready endpoint: " + NoEndpointMessage(_endpoints));
                }
            }
            else
            {
                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private string NoEndpointMessage(Subchannel[] endpoints) =>
        endpoints.Length == 0
            ? $"{_resolver.Name} resolved to no endpoint{(_resolveError is { } error ? $" (resolving failed: {error.Message})" : ".")}"
            : $"No endpoint of {_resolver.Name} is ready ({string.Join(", ", endpoints.Select(endpoint => $"{endpoint.Address}: {endpoint.State}"))}).";

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static void Signal(ref TaskCompletionSource signal)
    {
        signal.TrySetResult();
        signal = NewSignal();
    }
}
