using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RpcGen.Limits;
using RpcGen.Links;
using RpcGen.Logging;
using RpcGen.Security;

namespace RpcGen.Transport.Message;

/// <summary>
/// Serves <c>[RpcService]</c> implementations over the message transport on one or more addresses.
/// </summary>
/// <example>
/// <code>
/// await using var server = new RpcServer();
/// server.AddService&lt;IGreeter&gt;(new Greeter());
/// await server.StartAsync("tcp://127.0.0.1:5000", "unix:/tmp/greeter.sock");
/// </code>
/// </example>
public sealed class RpcServer : IAsyncDisposable
{
    private readonly RpcServerOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<ulong, IRpcDispatcher> _dispatchers = new();
    private readonly List<RpcLinkListener> _listeners = new();
    private readonly List<Task> _acceptLoops = new();
    private readonly ConcurrentDictionary<long, MessageConnection> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<string> _addresses = new();

    // What one peer, and all of them together, can make this server hold: connections (in all and
    // per address), outbound bytes, and time (the watchdog closes connections past their limits).
    private readonly ConnectionAdmission _admission;
    private readonly OutboundBudget _budget;
    private readonly ConnectionWatchdog _watchdog;
    private readonly CallAuthorization _authorization;

    // How refused connections close: lingering, so the client reads why, with a bound on how many at once.
    private readonly RefusalLinger _refusalLinger;
    private int _started;
    private Task? _stopped;

    /// <summary>Creates a server; add services, then start it.</summary>
    public RpcServer(RpcServerOptions? options = null)
    {
        _options = options ?? new RpcServerOptions();
        _options.Limits.Validate();
        _logger = _options.LoggerFactory?.CreateLogger("RpcGen.Server") ?? NullLogger.Instance;
        _admission = new ConnectionAdmission(_options.Limits);
        _budget = new OutboundBudget(_options.Limits);
        _watchdog = new ConnectionWatchdog(_options.TimeProvider, _options.Limits);
        _authorization = new CallAuthorization(_options.Authorizer, _options.AuthorizationPolicies);
        _refusalLinger = new RefusalLinger(_options.Limits);
    }

    /// <summary>The addresses listened on, with ports resolved (<c>tcp://127.0.0.1:0</c> reports the chosen port).</summary>
    public IReadOnlyList<string> Addresses => _addresses;

    /// <summary>Connections currently open.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Inbound calls running now, over every connection.</summary>
    public int InflightCalls => _connections.Values.Sum(connection => connection.InflightCalls);

    /// <summary>Whether the server is listening: started and not stopped.</summary>
    public bool IsListening => Volatile.Read(ref _started) != 0 && !_stopping.IsCancellationRequested;

    /// <summary>
    /// Outbound bytes all connections hold now: frames queued for peers, counted by the memory they
    /// occupy, until the link has taken them. Bounded by <see cref="RpcLimits.MaxServerPendingBytes"/>
    /// (plus, per connection, what calls already in flight still answer).
    /// </summary>
    public long PendingOutboundBytes => _budget.Held;

    /// <summary>Serves <paramref name="implementation"/> as <typeparamref name="TService"/>. Call before <see cref="StartAsync(string[])"/>.</summary>
    public RpcServer AddService<TService>(TService implementation)
        where TService : class
    {
        if (Volatile.Read(ref _started) != 0)
        {
            throw new InvalidOperationException("Add services before starting the server.");
        }

        return AddDispatcher(RpcServiceRegistry.CreateDispatcher(implementation));
    }

    /// <summary>
    /// Serves <paramref name="implementation"/> as <typeparamref name="TService"/>, letting only calls
    /// <paramref name="authorizer"/> allows reach it (after <see cref="RpcServerOptions.Authorizer"/>,
    /// before the methods' <c>[RpcAuthorize]</c> policies). Call before <see cref="StartAsync(string[])"/>.
    /// </summary>
    public RpcServer AddService<TService>(TService implementation, IRpcAuthorizer authorizer)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(authorizer);
        var dispatcher = RpcServiceRegistry.CreateDispatcher(implementation);
        AddDispatcher(dispatcher);
        _authorization.AddService(dispatcher.Service.Id, authorizer);
        return this;
    }

    /// <summary>
    /// Serves the service <paramref name="dispatcher"/> dispatches to, for hosts that decide per
    /// call which object serves it (for example a dependency-injection scope per call). Call before
    /// <see cref="StartAsync(string[])"/>.
    /// </summary>
    public RpcServer AddDispatcher(IRpcDispatcher dispatcher)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        if (Volatile.Read(ref _started) != 0)
        {
            throw new InvalidOperationException("Add services before starting the server.");
        }

        if (!_dispatchers.TryAdd(dispatcher.Service.Id, dispatcher))
        {
            throw new InvalidOperationException($"A service with id 0x{dispatcher.Service.Id:x16} ({_dispatchers[dispatcher.Service.Id].Service.Name}) is already served.");
        }

        return this;
    }

    /// <summary>Starts listening on each address (<c>tcp://HOST:PORT</c>, <c>unix:PATH</c>, <c>memory:NAME</c>).</summary>
    public Task StartAsync(params string[] addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        if (addresses.Length == 0)
        {
            throw new ArgumentException("Give at least one address.", nameof(addresses));
        }

        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The server is already started.");
        }

        foreach (var address in addresses)
        {
            var listener = RpcLinks.Listen(address, _options.Limits, _options.Tls, _logger, _options.TimeProvider);
            _listeners.Add(listener);
            _addresses.Add(listener.Address);
            RpcLog.Listening(_logger, listener.Address);
            _acceptLoops.Add(AcceptLoopAsync(listener));
        }

        return Task.CompletedTask;
    }

    /// <summary>Serves one link that is already open (for example one end of <see cref="RpcLinks.CreateMemoryPair"/>).</summary>
    public void Accept(RpcLink link)
    {
        ArgumentNullException.ThrowIfNull(link);
        Volatile.Write(ref _started, 1);
        var admitted = _admission.TryAdmit(link.RemoteAddress, out var refusal);
        var connection = new MessageConnection(
            link,
            _options.Limits,
            _logger,
            _dispatchers,
            defaultTimeout: null,
            onClosed: OnConnectionClosed,
            _options.Compression,
            _options.CompressionThresholdBytes,
            _budget,
            new ConnectionTimeouts(_options.Limits, _options.TimeProvider),
            _options.HandlerExecution,
            _authorization)
        {
            ServerInterceptors = _options.Interceptors.Count == 0 ? null : [.. _options.Interceptors],
        };
        if (!admitted)
        {
            // Told why, then closed; it never reads, so it costs one small frame, and a bounded
            // linger so the client's unread hello does not turn the close into a reset that can
            // destroy the frame (every link: tcp, unix and tls refuse here alike).
            RpcLog.ConnectionRefused(_logger, link.RemoteAddress, refusal!);
            _ = connection.CloseAfterTellingPeerAsync(RpcStatusCode.Overloaded, refusal!, _refusalLinger);
            return;
        }

        _connections[connection.Id] = connection;
        _watchdog.Add(connection);
        if (_stopping.IsCancellationRequested)
        {
            _ = connection.DisposeAsync().AsTask();
            return;
        }

        connection.Start();

        void OnConnectionClosed(MessageConnection closed)
        {
            if (_connections.TryRemove(closed.Id, out _))
            {
                _watchdog.Remove(closed);
                _admission.Release(closed.Peer);
            }
        }
    }

    /// <summary>
    /// Stops gracefully: stops accepting connections, tells each client to make no new calls, waits
    /// up to <paramref name="timeout"/> (default <see cref="RpcLimits.ShutdownTimeout"/>) for calls in
    /// flight, then closes every connection.
    /// </summary>
    public Task StopAsync(TimeSpan? timeout = null)
    {
        lock (_stopping)
        {
            return _stopped ??= StopCoreAsync(timeout ?? _options.Limits.ShutdownTimeout);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StopCoreAsync(TimeSpan timeout)
    {
        // Refuse new calls before the first await, so a call that reaches the server after
        // StopAsync was called is refused rather than raced.
        _stopping.Cancel();
        var connections = _connections.Values.ToArray();
        var goingAway = connections.Select(c => c.GoAwayAsync()).ToArray();
        MessageLog.ShuttingDown(_logger, connections.Length, timeout);

        foreach (var listener in _listeners)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        await Task.WhenAll(goingAway).ConfigureAwait(false);
        try
        {
            await Task.WhenAll(connections.Select(c => c.Drained)).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            MessageLog.ShutdownTimedOut(_logger, connections.Count(c => c.InflightCalls > 0));
        }

        await Task.WhenAll(_connections.Values.Select(c => c.DisposeAsync().AsTask())).ConfigureAwait(false);
        _watchdog.Dispose();
    }

    private async Task AcceptLoopAsync(RpcLinkListener listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            RpcLink? link;
            try
            {
                link = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
            {
                if (!await AcceptBackoff.ContinueAfterAsync(ex, _logger, listener.Address, _stopping.Token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (link is null)
            {
                return;
            }

            Accept(link);
        }
    }
}
