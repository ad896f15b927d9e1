using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RpcGen.Limits;
using RpcGen.Links;

namespace RpcGen.Capnp;

/// <summary>
/// Listens on <c>tcp://HOST:PORT</c> or <c>unix:PATH</c> and serves a bootstrap capability over a
/// <see cref="CapnpConnection"/> per accepted link. A connection that breaks the protocol is
/// aborted alone; the listener and the other connections go on.
/// </summary>
/// <remarks>
/// What peers can make the server hold is bounded by <see cref="CapnpConnectionOptions.Limits"/>: one
/// admission counts connections (in all and per address; one more is sent an <c>abort</c> that says
/// why and closed), one outbound budget is shared by every connection, and one watchdog enforces
/// every connection's time limits on <see cref="CapnpConnectionOptions.TimeProvider"/>'s clock. A
/// connection is admitted before it runs and released once its link is closed, so the counts are
/// what the server holds.
/// </remarks>
public sealed class CapnpServer : IAsyncDisposable
{
    private readonly RpcLinkListener _listener;
    private readonly CapnpConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly List<CapnpConnection> _connections = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private readonly Capability _bootstrap;
    private readonly ConnectionAdmission _admission;
    private readonly OutboundBudget _budget;
    private readonly ConnectionWatchdog _watchdog;

    // Refused links still being told why and closed; awaited on dispose.
    private readonly List<Task> _refusing = [];

    private CapnpServer(RpcLinkListener listener, Capability bootstrap, CapnpConnectionOptions options)
    {
        _listener = listener;
        _bootstrap = bootstrap;
        _options = options;
        _logger = options.Logger ?? NullLogger.Instance;
        _admission = new ConnectionAdmission(options.Limits);
        _budget = new OutboundBudget(options.Limits);
        _watchdog = new ConnectionWatchdog(options.TimeProvider, options.Limits);
        _accepting = AcceptLoopAsync();
    }

    /// <summary>The address actually listened on (for <c>tcp://...:0</c>, with the chosen port).</summary>
    public string Address => _listener.Address;

    /// <summary>The connections accepted so far that have not ended.</summary>
    public IReadOnlyList<CapnpConnection> Connections
    {
        get
        {
            lock (_connections)
            {
                return [.. _connections];
            }
        }
    }

    /// <summary>
    /// Outbound bytes all connections hold now: messages queued for peers, counted by the memory they
    /// occupy, until the link has taken them. Bounded by <see cref="RpcLimits.MaxServerPendingBytes"/>
    /// (plus, per connection, what calls already in flight still answer).
    /// </summary>
    public long PendingOutboundBytes => _budget.Held;

    /// <summary>Connections admitted whose links are not yet closed (what counts against <see cref="RpcLimits.MaxConnections"/>).</summary>
    public int ConnectionCount => _admission.Count;

    /// <summary>Starts listening. The server takes its own reference to <paramref name="bootstrap"/>.</summary>
    public static CapnpServer Listen(string address, Capability bootstrap, CapnpConnectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        options ??= new CapnpConnectionOptions();
        options.Limits.Validate();
        var listener = RpcLinks.Listen(address, options.Limits, options.Tls, options.Logger, options.TimeProvider);
        return new CapnpServer(listener, bootstrap.Dup(), options);
    }

    /// <summary>Starts listening, serving <paramref name="service"/> as every connection's bootstrap capability.</summary>
    public static CapnpServer Listen<TService>(string address, TService service, CapnpConnectionOptions? options = null)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(service);
        using var bootstrap = CapnpServiceRegistry.ToCapability(service);
        return Listen(address, bootstrap, options);
    }

    /// <summary>Stops listening and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _listener.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped while accepting.
        }

        await Task.WhenAll(Connections.Select(connection => connection.DisposeAsync().AsTask())).ConfigureAwait(false);
        Task[] refusing;
        lock (_refusing)
        {
            refusing = [.. _refusing];
        }

        await Task.WhenAll(refusing).ConfigureAwait(false);
        _watchdog.Dispose();
        _bootstrap.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            RpcLink? link;
            try
            {
                link = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException error) when (AcceptBackoff.IsOutOfResources(error))
            {
                // Out of file descriptors or buffers: retrying at once would spin a core and starve
                // the connections that could free them. Back off instead.
                CapnpLog.AcceptBackingOff(_logger, Address, AcceptBackoff.Delay, error);
                if (!await AcceptBackoff.WaitAsync(_stopping.Token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }
            catch (Exception error) when (error is SocketException or IOException)
            {
                // One failed accept (a client that reset before we got to it) must not stop the server.
                CapnpLog.AcceptFailed(_logger, Address, error);
                continue;
            }

            if (link is null)
            {
                return;
            }

            Accept(link);
        }
    }

    private void Accept(RpcLink link)
    {
        var remote = link.RemoteAddress;
        if (!_admission.TryAdmit(remote, out var refusal))
        {
            CapnpLog.ConnectionRefused(_logger, remote, refusal!);
            var refused = RefuseAsync(link, refusal!);
            lock (_refusing)
            {
                _refusing.Add(refused);
            }

            _ = refused.ContinueWith(
                done =>
                {
                    lock (_refusing)
                    {
                        _refusing.Remove(done);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return;
        }

        var connection = CapnpConnection.ForServer(
            link,
            new CapnpConnectionOptions
            {
                Bootstrap = _bootstrap,
                ReaderOptions = _options.ReaderOptions,
                MaxAnswers = _options.MaxAnswers,
                HandlerExecution = _options.HandlerExecution,
                Authorizer = _options.Authorizer,
                AuthorizationPolicies = _options.AuthorizationPolicies,
                Logger = _options.Logger,
                Limits = _options.Limits,
                TimeProvider = _options.TimeProvider,
                StreamWindowBytes = _options.StreamWindowBytes,
                MaxStreamBytesInFlight = _options.MaxStreamBytesInFlight,
            },
            _budget,
            new ConnectionTimeouts(_options.Limits, _options.TimeProvider));

        // Registered before it runs, so a peer that has had an answer finds it in Connections.
        lock (_connections)
        {
            _connections.Add(connection);
        }

        _watchdog.Add(connection);
        connection.Run();
        _ = connection.Completion.ContinueWith(
            _ =>
            {
                lock (_connections)
                {
                    _connections.Remove(connection);
                }

                _watchdog.Remove(connection);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        // The admission is given back once the link is closed, not when the protocol ends: until
        // then the connection still holds a socket (a peer that does not read keeps it for the grace).
        _ = connection.Closed.ContinueWith(
            _ => _admission.Release(remote),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        if (_stopping.IsCancellationRequested)
        {
            _ = connection.DisposeAsync().AsTask();
        }
    }

    /// <summary>Tells a refused peer why in an <c>abort</c> message, then closes the link; nothing is read from it.</summary>
    private static async Task RefuseAsync(RpcLink link, string reason)
    {
        try
        {
            await link.Output.WriteAsync(CapnpConnection.AbortMessage(reason)).ConfigureAwait(false);
            await link.Input.CompleteAsync().ConfigureAwait(false);
            await link.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A peer that does not read, or is gone: cut the link.
            link.Abort();
        }
    }
}
