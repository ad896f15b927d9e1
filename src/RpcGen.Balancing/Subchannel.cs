using Microsoft.Extensions.Logging;
using RpcGen.Transport.Message;

namespace RpcGen.Balancing;

/// <summary>
/// One endpoint of a balanced client and its one connection: a reconnecting <see cref="RpcClient"/>
/// once the first connection succeeded, and until then a loop that tries with the client's backoff.
/// </summary>
/// <remarks>
/// <para>
/// Ready means the connection is open and its server has not said it is going away; the balancer
/// picks only ready endpoints, so a failed or draining one is out of rotation while its client
/// reconnects in the background, and back in once it is connected again.
/// </para>
/// <para>
/// Retiring (the resolver stopped naming this endpoint): it is no longer picked, and it is disposed
/// once its last call in flight ended, so calls that were running on it are not cut off.
/// <c>_client</c> is written once, by the connect loop; <c>_inflight</c> counts calls this client has
/// running on the endpoint (least-outstanding reads it).
/// </para>
/// </remarks>
internal sealed class Subchannel
{
    private readonly RpcClientOptions _options;
    private readonly ILogger _logger;
    private readonly Action<Subchannel, bool> _changed;
    private readonly CancellationTokenSource _disposing = new();
    private volatile RpcClient? _client;
    private volatile bool _retired;
    private volatile bool _connectFailed;
    private int _inflight;
    private int _disposed;
    private Task _connecting = Task.CompletedTask;

    /// <param name="address">The endpoint's address.</param>
    /// <param name="options">Connection settings (a reconnect policy is required).</param>
    /// <param name="logger">Where connection failures are logged.</param>
    /// <param name="changed">Called after each change of readiness; the flag says whether it was a failure.</param>
    public Subchannel(string address, RpcClientOptions options, ILogger logger, Action<Subchannel, bool> changed)
    {
        Address = address;
        _options = options;
        _logger = logger;
        _changed = changed;
    }

    public string Address { get; }

    /// <summary>The connection, once the first attempt succeeded.</summary>
    public RpcClient? Client => _client;

    /// <summary>Calls this client has running on the endpoint now.</summary>
    public int Inflight => Volatile.Read(ref _inflight);

    /// <summary>Whether a call may be sent here now.</summary>
    public bool IsReady => !_retired && _client is { State: RpcConnectionState.Ready, AcceptsCalls: true };

    /// <summary>Where the endpoint is: Connecting until the first attempt ends, then its client's state.</summary>
    public RpcConnectionState State => _client?.State ?? (_connectFailed ? RpcConnectionState.TransientFailure : RpcConnectionState.Connecting);

    public void Start() => _connecting = ConnectAsync();

    /// <summary>A call starts here; pair with <see cref="EndCall"/>.</summary>
    public void BeginCall() => Interlocked.Increment(ref _inflight);

    public void EndCall()
    {
        if (Interlocked.Decrement(ref _inflight) == 0 && _retired)
        {
            _ = DisposeAsync().AsTask();
        }
    }

    /// <summary>Takes the endpoint out of rotation; it closes once no call of this client runs on it.</summary>
    public void Retire()
    {
        _retired = true;
        if (Inflight == 0)
        {
            _ = DisposeAsync().AsTask();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _retired = true;
        await _disposing.CancelAsync().ConfigureAwait(false);
        await _connecting.ConfigureAwait(false);
        if (_client is { } client)
        {
            client.StateChanged -= OnClientStateChanged;
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Attempts the first connection with backoff until one succeeds; the client reconnects by itself from then on.</summary>
    private async Task ConnectAsync()
    {
        var policy = _options.Reconnect ?? RpcReconnectPolicy.Default;
        for (var failures = 0; ; failures++)
        {
            try
            {
                if (failures > 0)
                {
                    await Task.Delay(policy.BackoffAfter(failures, Random.Shared.NextDouble()), _options.TimeProvider, _disposing.Token).ConfigureAwait(false);
                }

                var client = await RpcClient.ConnectAsync(Address, _options, _disposing.Token).ConfigureAwait(false);
                client.StateChanged += OnClientStateChanged;
                if (_disposing.IsCancellationRequested)
                {
                    await client.DisposeAsync().ConfigureAwait(false);
                    return;
                }

                _client = client;
                _changed(this, false);
                return;
            }
            catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException ex)
            {
                BalancerLog.ConnectFailed(_logger, Address, failures + 1, ex.Message);
                _connectFailed = true;
                _changed(this, true);
            }
        }
    }

    private void OnClientStateChanged(RpcConnectionState state)
    {
        BalancerLog.EndpointState(_logger, Address, state);
        _changed(this, state is RpcConnectionState.TransientFailure or RpcConnectionState.Connecting);
    }
}
