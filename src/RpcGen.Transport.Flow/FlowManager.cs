using System.Threading.Channels;
using RpcGen.Limits;
using RpcGen.Links;

namespace RpcGen.Transport.Flow;

/// <summary>
/// Listens on several addresses, dials, accepts, and caches connections so that many flows to one
/// remote share one network connection (v23's flow manager). Every connection accepts flows from
/// its peer, dialed or not, so a server can open a flow back over the connection a client opened.
/// </summary>
/// <remarks>
/// <para>Tables: <see cref="_cache"/> (dialed connections by resolved address, each an entry whose
/// task completes when the dial does, so concurrent dials share one), <see cref="_accepted"/>
/// (connections accepted from listeners), <see cref="_listeners"/>, <see cref="_protocols"/>.</para>
/// <para>What listeners can make the manager hold is bounded: every accepted link is admitted by
/// <see cref="_admission"/> (<see cref="FlowManagerOptions.LinkLimits"/>'s <c>MaxConnections</c> in all,
/// <c>MaxConnectionsPerAddress</c> per remote IP) from accept until its connection ends, so links still
/// in the setup exchange count too; a link beyond that is closed at once with a log line. Flows
/// accepted but not yet taken by <see cref="AcceptAsync"/> wait in a queue of at most
/// <see cref="FlowLimits.MaxFlows"/>; past it each connection keeps at most that many of its own
/// (see <see cref="FlowConnection.AcceptFlowAsync"/>) and refuses further ones.</para>
/// <para>Lock: <see cref="_gate"/> guards the tables; nothing is awaited and no user code runs under it.
/// A connection that ends leaves the cache; a pinned one is dialed again until unpinned.</para>
/// </remarks>
public sealed class FlowManager : IAsyncDisposable
{
    private static readonly Lazy<FlowManager> s_default = new(() => new FlowManager());

    private readonly object _gate = new();
    private readonly FlowManagerOptions _options;
    private readonly Dictionary<string, IFlowProtocol> _protocols = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, CacheEntry> _cache = new(StringComparer.Ordinal);
    private readonly HashSet<FlowConnection> _accepted = [];
    private readonly Dictionary<string, RpcLinkListener> _listeners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _listenErrors = new(StringComparer.Ordinal);
    private readonly Channel<Flow> _flows;
    private readonly ConnectionAdmission _admission;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer? _eviction;
    private TaskCompletionSource _statusChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    /// <summary>Creates a manager.</summary>
    public FlowManager(FlowManagerOptions? options = null)
    {
        _options = options ?? new FlowManagerOptions();
        _options.Limits.Validate();
        _admission = new ConnectionAdmission(_options.LinkLimits);
        _flows = Channel.CreateBounded<Flow>(new BoundedChannelOptions(_options.Limits.MaxFlows) { FullMode = BoundedChannelFullMode.Wait });
        foreach (var scheme in new[] { "tcp", "unix", "memory", "tls", "tls+unix" })
        {
            _protocols[scheme] = new LinkProtocol(scheme);
        }

        if (_options.IdleTimeout > TimeSpan.Zero && _options.IdleTimeout != Timeout.InfiniteTimeSpan)
        {
            var period = _options.IdleTimeout / 2;
            _eviction = _options.TimeProvider.CreateTimer(static state => ((FlowManager)state!).EvictIdle(), this, period, period);
        }
    }

    /// <summary>Where pins log.</summary>
    internal Microsoft.Extensions.Logging.ILogger Logger => _options.Logger;

    /// <summary>The clock pins pause on between failed dials.</summary>
    internal TimeProvider TimeProvider => _options.TimeProvider;

    /// <summary>Whether the manager is being disposed.</summary>
    internal bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>A pin lets go of the cache entry for <paramref name="key"/>.</summary>
    internal void Unpin(string key)
    {
        lock (_gate)
        {
            if (_cache.TryGetValue(key, out var entry) && entry.Pins > 0)
            {
                entry.Pins--;
            }
        }
    }

    /// <summary>The process-wide manager the <c>flow+</c> link addresses dial through (see <see cref="FlowLinks"/>).</summary>
    public static FlowManager Default => s_default.Value;

    /// <summary>Connections open now: dialed (cached) and accepted.</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_gate)
            {
                return _accepted.Count + _cache.Values.Count(e => e.Connection is { IsClosed: false });
            }
        }
    }

    /// <summary>Links accepted from listeners and not yet closed, those still in the setup exchange included.</summary>
    internal int AdmittedConnections => _admission.Count;

    /// <summary>What the manager listens on, listen errors, and a task that completes at the next change.</summary>
    public FlowManagerStatus Status
    {
        get
        {
            lock (_gate)
            {
                return new FlowManagerStatus([.. _listeners.Keys], new Dictionary<string, string>(_listenErrors), _statusChanged.Task);
            }
        }
    }

    /// <summary>Adds or replaces the protocol for addresses starting <paramref name="name"/><c>:</c>.</summary>
    public void RegisterProtocol(string name, IFlowProtocol protocol)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(protocol);
        lock (_gate)
        {
            _protocols[name] = protocol;
        }
    }

    // ─── Listening and accepting ──────────────────────────────────────────

    /// <summary>
    /// Starts listening on <paramref name="address"/> (<c>tcp://127.0.0.1:0</c>, <c>unix:/path</c>, …) and
    /// returns the address listened on. Call it several times to listen on several addresses.
    /// </summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.ResolveFailed"/> for an unknown protocol; <see cref="FlowErrorCode.BadArg"/> when listening failed (also recorded in <see cref="Status"/>).</exception>
    public Task<string> ListenAsync(string address)
    {
        var protocol = ProtocolOf(address);
        RpcLinkListener listener;
        try
        {
            listener = protocol.Listen(address, Context());
        }
        catch (Exception ex) when (ex is not FlowException)
        {
            FlowLog.ListenFailed(_options.Logger, address, ex.Message);
            lock (_gate)
            {
                _listenErrors[address] = ex.Message;
                SignalStatusLocked();
            }

            throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on {address}: {ex.Message}", ex);
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _listeners[listener.Address] = listener;
            _listenErrors.Remove(address);
            SignalStatusLocked();
        }

        _ = AcceptLinksAsync(listener);
        return Task.FromResult(listener.Address);
    }

    /// <summary>Stops every listener; connections already accepted stay open.</summary>
    public async Task StopListeningAsync()
    {
        RpcLinkListener[] listeners;
        lock (_gate)
        {
            listeners = [.. _listeners.Values];
            _listeners.Clear();
            SignalStatusLocked();
        }

        foreach (var listener in listeners)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the next flow a peer opens on any connection of this manager.</summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.Aborted"/> once the manager is disposed.</exception>
    public async ValueTask<Flow> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _flows.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new FlowException(FlowErrorCode.Aborted, "The flow manager was disposed.");
        }
    }

    private async Task AcceptLinksAsync(RpcLinkListener listener)
    {
        while (true)
        {
            RpcLink? link;
            try
            {
                link = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                return;
            }

            if (link is null)
            {
                return;
            }

            if (!_admission.TryAdmit(link.RemoteAddress, out var refusal))
            {
                FlowLog.ConnectionRefused(_options.Logger, link.RemoteAddress, refusal!);
                link.Abort();
                continue;
            }

            _ = AcceptConnectionAsync(link);
        }
    }

    private async Task AcceptConnectionAsync(RpcLink link)
    {
        FlowConnection connection;
        try
        {
            connection = await FlowConnection.AcceptAsync(link, ConnectionOptions(_options.Authorizer), _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Released before the log line, so a line seen means the slot is free.
            _admission.Release(link.RemoteAddress);
            FlowLog.AcceptFailed(_options.Logger, link.RemoteAddress, ex.Message);
            return;
        }

        bool disposed;
        lock (_gate)
        {
            disposed = _disposed;
            if (!disposed)
            {
                _accepted.Add(connection);
            }
        }

        _ = connection.Completion.ContinueWith(
            _ =>
            {
                lock (_gate)
                {
                    _accepted.Remove(connection);
                }

                _admission.Release(link.RemoteAddress);
                FlowLog.ConnectionReleased(_options.Logger, link.RemoteAddress, _admission.Count);
            },
            TaskScheduler.Default);
        if (disposed)
        {
            _ = connection.DisposeAsync().AsTask();
            return;
        }

        // Logged once the connection counts as accepted, so its idle time is measured from here on.
        FlowLog.ConnectionAccepted(_options.Logger, link.RemoteAddress, _admission.Count);
        _ = ForwardFlowsAsync(connection);
    }

    private async Task ForwardFlowsAsync(FlowConnection connection)
    {
        while (true)
        {
            try
            {
                // Waits while the manager's queue is full, so unaccepted flows pile up on their own
                // connection, which refuses more past MaxFlows.
                var flow = await connection.AcceptFlowAsync(_stopping.Token).ConfigureAwait(false);
                await _flows.Writer.WriteAsync(flow, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    // ─── Dialing and the cache ────────────────────────────────────────────

    /// <summary>
    /// Opens a flow to <paramref name="address"/>, over a cached connection to the same resolved
    /// address when there is one, else over a new connection (cached for the next dial). The
    /// <paramref name="authorizer"/> checks the remote side, on a new and on a cached connection.
    /// </summary>
    /// <param name="address">Where to: <c>tcp://host:port</c>, <c>unix:/path</c>, or any registered protocol.</param>
    /// <param name="authorizer">Decides whether the remote may be used; null allows it.</param>
    /// <param name="channelTimeout">The health-check timeout of a new connection; null keeps <see cref="FlowLimits.ChannelTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the dial.</param>
    /// <exception cref="FlowException">ResolveFailed, DialFailed, NotTrusted, Network, or the connection's close reason.</exception>
    public async Task<Flow> DialAsync(string address, IPeerAuthorizer? authorizer = null, TimeSpan? channelTimeout = null, CancellationToken cancellationToken = default)
    {
        var connection = await GetConnectionAsync(address, authorizer, channelTimeout, dialIfMissing: true, cancellationToken).ConfigureAwait(false);
        return connection.OpenFlow();
    }

    /// <summary>Opens a flow only over a connection already in the cache.</summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadState"/> when no open connection to <paramref name="address"/> is cached.</exception>
    public async Task<Flow> DialCachedAsync(string address, IPeerAuthorizer? authorizer = null, CancellationToken cancellationToken = default)
    {
        var connection = await GetConnectionAsync(address, authorizer, null, dialIfMissing: false, cancellationToken).ConfigureAwait(false);
        return connection.OpenFlow();
    }

    /// <summary>
    /// Keeps a connection to <paramref name="address"/> in the cache, never evicted, and dials it again
    /// whenever it drops, until the returned handle is disposed.
    /// </summary>
    public async Task<FlowPin> PinConnectionAsync(string address, IPeerAuthorizer? authorizer = null, CancellationToken cancellationToken = default)
    {
        var connection = await GetConnectionAsync(address, authorizer, null, dialIfMissing: true, cancellationToken).ConfigureAwait(false);
        var key = await ProtocolOf(address).ResolveAsync(address, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (_cache.TryGetValue(key, out var entry))
            {
                entry.Pins++;
            }
        }

        var pin = new FlowPin(this, address, key, authorizer, connection);
        return pin;
    }

    /// <summary>The cached connection to <paramref name="address"/>, or null.</summary>
    public async Task<FlowConnection?> FindCachedAsync(string address, CancellationToken cancellationToken = default)
    {
        var key = await ProtocolOf(address).ResolveAsync(address, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            return _cache.TryGetValue(key, out var entry) && entry.Connection is { IsClosed: false } connection ? connection : null;
        }
    }

    internal async Task<FlowConnection> GetConnectionAsync(string address, IPeerAuthorizer? authorizer, TimeSpan? channelTimeout, bool dialIfMissing, CancellationToken cancellationToken)
    {
        var protocol = ProtocolOf(address);
        var key = await protocol.ResolveAsync(address, cancellationToken).ConfigureAwait(false);
        CacheEntry entry;
        var dial = false;
        lock (_gate)
        {
            if (_disposed)
            {
                throw new FlowException(FlowErrorCode.BadState, "The flow manager was disposed.");
            }

            if (!_cache.TryGetValue(key, out entry!) || entry.Dialing.Task.IsCompleted && (entry.Connection is null || entry.Connection.IsClosed || entry.Connection.IsLameDuck))
            {
                if (!dialIfMissing)
                {
                    throw new FlowException(FlowErrorCode.BadState, $"No cached flow connection to {address} ({key}): dial it first, or use DialAsync.");
                }

                var pins = entry?.Pins ?? 0;
                entry = new CacheEntry { Pins = pins };
                _cache[key] = entry;
                dial = true;
            }
        }

        if (dial)
        {
            _ = DialIntoAsync(entry, protocol, key, authorizer, channelTimeout);
        }

        var connection = await entry.Dialing.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!dial && authorizer is not null && await authorizer.AuthorizeAsync(connection.RemotePeer, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            throw new FlowException(FlowErrorCode.NotTrusted, $"The cached connection to {address} reaches '{connection.RemotePeer.Name}', which is not trusted: {refusal}");
        }

        return connection;
    }

    private async Task DialIntoAsync(CacheEntry entry, IFlowProtocol protocol, string key, IPeerAuthorizer? authorizer, TimeSpan? channelTimeout)
    {
        try
        {
            var link = await protocol.DialAsync(key, Context(), _stopping.Token).ConfigureAwait(false);
            var options = ConnectionOptions(authorizer, channelTimeout);
            var connection = await FlowConnection.ConnectAsync(link, options, _stopping.Token).ConfigureAwait(false);
            entry.Connection = connection;
            _ = connection.Completion.ContinueWith(_ => Forget(key, entry), TaskScheduler.Default);
            _ = ForwardFlowsAsync(connection);
            entry.Dialing.TrySetResult(connection);
            EvictOverCapacity();
        }
        catch (Exception ex)
        {
            Forget(key, entry);
            entry.Dialing.TrySetException(ex as FlowException ?? new FlowException(FlowErrorCode.DialFailed, $"Cannot dial {key}: {ex.Message}", ex));
        }
    }

    private void Forget(string key, CacheEntry entry)
    {
        lock (_gate)
        {
            if (_cache.TryGetValue(key, out var current) && ReferenceEquals(current, entry) && entry.Pins == 0)
            {
                _cache.Remove(key);
            }
        }
    }

    // ─── Eviction ─────────────────────────────────────────────────────────

    /// <summary>Closes cached connections that have no flow and were unused for <see cref="FlowManagerOptions.IdleTimeout"/> (runs on a timer too).</summary>
    public void EvictIdle()
    {
        var now = _options.TimeProvider.GetUtcNow();
        foreach (var connection in TakeEvictable(c => now - c.LastUsed >= _options.IdleTimeout, int.MaxValue))
        {
            _ = connection.CloseAsync();
        }

        // Accepted connections too: a peer that finished the setup and answers health checks but
        // opens no flow would otherwise hold one of the listeners' MaxConnections slots for good.
        List<FlowConnection> idleAccepted;
        lock (_gate)
        {
            idleAccepted = [.. _accepted.Where(c => c is { IsClosed: false, FlowCount: 0 } && now - c.LastUsed >= _options.IdleTimeout)];
        }

        foreach (var connection in idleAccepted)
        {
            FlowLog.IdleClosed(_options.Logger, connection.RemoteAddress, _options.IdleTimeout);
            _ = connection.CloseAsync();
        }
    }

    private void EvictOverCapacity()
    {
        int excess;
        lock (_gate)
        {
            excess = _cache.Count - _options.MaxCachedConnections;
        }

        foreach (var connection in TakeEvictable(_ => true, excess))
        {
            _ = connection.CloseAsync();
        }
    }

    private List<FlowConnection> TakeEvictable(Func<FlowConnection, bool> due, int count)
    {
        var taken = new List<FlowConnection>();
        lock (_gate)
        {
            foreach (var (key, entry) in _cache.OrderBy(e => e.Value.Connection?.LastUsed ?? DateTimeOffset.MaxValue).ToList())
            {
                if (taken.Count >= count)
                {
                    break;
                }

                if (entry.Pins == 0 && entry.Connection is { IsClosed: false, FlowCount: 0 } connection && due(connection))
                {
                    _cache.Remove(key);
                    taken.Add(connection);
                }
            }
        }

        return taken;
    }

    // ─── Helpers ──────────────────────────────────────────────────────────

    private IFlowProtocol ProtocolOf(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var colon = address.IndexOf(':', StringComparison.Ordinal);
        lock (_gate)
        {
            if (colon > 0 && _protocols.TryGetValue(address[..colon], out var protocol))
            {
                return protocol;
            }

            // A scheme another assembly registered with RpcLinks (shm after SharedMemoryLinks.Register)
            // is carried as the built-in ones are. Not flow+ schemes: flows are not nested in flows.
            if (colon > 0 && !address.StartsWith(FlowLinks.Prefix, StringComparison.OrdinalIgnoreCase) && RpcLinks.IsKnownScheme(address[..colon]))
            {
                protocol = new LinkProtocol(address[..colon], registered: true);
                _protocols[address[..colon]] = protocol;
                return protocol;
            }
        }

        throw new FlowException(FlowErrorCode.ResolveFailed, $"No flow protocol is registered for '{address}' (built in: tcp, unix, memory, tls, tls+unix, and any scheme registered with RpcLinks, such as shm after SharedMemoryLinks.Register).");
    }

    private FlowProtocolContext Context() => new() { LinkLimits = _options.LinkLimits, Tls = _options.Tls, Logger = _options.Logger, TimeProvider = _options.TimeProvider };

    private FlowConnectionOptions ConnectionOptions(IPeerAuthorizer? authorizer, TimeSpan? channelTimeout = null) => new()
    {
        Limits = channelTimeout is { } timeout ? _options.Limits with { ChannelTimeout = timeout } : _options.Limits,
        Name = _options.Name,
        Authorizer = authorizer,
        Logger = _options.Logger,
        TimeProvider = _options.TimeProvider,
    };

    private void SignalStatusLocked()
    {
        var changed = _statusChanged;
        _statusChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    /// <summary>
    /// Stops listening and closes every connection gracefully: each announces lame duck (no new
    /// flows either way), open flows get <see cref="FlowLimits.LameDuckTimeout"/> to finish, then
    /// the manager is disposed.
    /// </summary>
    public async Task CloseAsync()
    {
        await StopListeningAsync().ConfigureAwait(false);
        FlowConnection[] connections;
        lock (_gate)
        {
            connections = [.. _accepted, .. _cache.Values.Select(e => e.Connection).OfType<FlowConnection>()];
        }

        await Task.WhenAll(connections.Select(c => c.CloseAsync())).ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops listening and closes every connection at once.</summary>
    public async ValueTask DisposeAsync()
    {
        FlowConnection[] connections;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            connections = [.. _accepted, .. _cache.Values.Select(e => e.Connection).OfType<FlowConnection>()];
            _accepted.Clear();
            foreach (var entry in _cache.Values)
            {
                entry.Pins = 0;
            }

            _cache.Clear();
        }

        _eviction?.Dispose();
        await StopListeningAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        _flows.Writer.TryComplete();
        foreach (var connection in connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class CacheEntry
    {
        // Completes with the connection once the dial (setup and authorization included) is done.
        public TaskCompletionSource<FlowConnection> Dialing { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Set when the dial succeeded; the connection may have closed since.
        public FlowConnection? Connection { get; set; }

        // Under the manager's gate: how many pins hold the entry (a pinned entry is never evicted).
        public int Pins { get; set; }
    }
}
