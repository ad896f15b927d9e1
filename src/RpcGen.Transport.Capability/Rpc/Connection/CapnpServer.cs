using RpcGen.Links;

namespace RpcGen.Capnp;

/// <summary>
/// Listens on <c>tcp://HOST:PORT</c> or <c>unix:PATH</c> and serves a bootstrap capability over a
/// <see cref="CapnpConnection"/> per accepted link. A connection that breaks the protocol is
/// aborted alone; the listener and the other connections go on.
/// </summary>
public sealed class CapnpServer : IAsyncDisposable
{
    private readonly RpcLinkListener _listener;
    private readonly CapnpConnectionOptions _options;
    private readonly List<CapnpConnection> _connections = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private readonly Capability _bootstrap;

    private CapnpServer(RpcLinkListener listener, Capability bootstrap, CapnpConnectionOptions options)
    {
        _listener = listener;
        _bootstrap = bootstrap;
        _options = options;
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

    /// <summary>Starts listening. The server takes its own reference to <paramref name="bootstrap"/>.</summary>
    public static CapnpServer Listen(string address, Capability bootstrap, CapnpConnectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        options ??= new CapnpConnectionOptions();
        var listener = RpcLinks.Listen(address);
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

        foreach (var connection in Connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

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

            if (link is null)
            {
                return;
            }

            var connection = CapnpConnection.Start(link, new CapnpConnectionOptions
            {
                Bootstrap = _bootstrap,
                ReaderOptions = _options.ReaderOptions,
                MaxAnswers = _options.MaxAnswers,
                Logger = _options.Logger,
            });
            lock (_connections)
            {
                _connections.Add(connection);
            }

            _ = connection.Completion.ContinueWith(
                _ =>
                {
                    lock (_connections)
                    {
                        _connections.Remove(connection);
                    }
                },
                TaskScheduler.Default);
        }
    }
}
