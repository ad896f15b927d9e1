using System.Runtime.CompilerServices;
using RpcGen.Transport.Message;

namespace RpcGen.Hosting;

/// <summary>
/// The one connection behind every proxy of a named client. It connects on the first call, not
/// when the container builds the proxy (so a client can be injected before its server is up), and
/// connects again on the next call if its client ended (a client that does not reconnect, or one
/// disposed by its connection's failure).
/// </summary>
internal sealed class SharedClientChannel(Func<CancellationToken, Task<RpcClient>> connect) : IRpcChannel, IAsyncDisposable
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private volatile RpcClient? _client;
    private bool _disposed;

    public ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        Current is { } client ? client.InvokeAsync(method, request, cancellationToken) : InvokeSlowAsync(method, request, cancellationToken);

    public ValueTask InvokeVoidAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request, CancellationToken cancellationToken) =>
        Current is { } client ? client.InvokeVoidAsync(method, request, cancellationToken) : RpcTasks.AsValueTask(InvokeSlowAsync(method, request, cancellationToken));

    public ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request) =>
        Current is { } client ? client.SendAsync(method, request) : SendSlowAsync(method, request);

    public IAsyncEnumerable<TResponse> InvokeServerStreaming<TRequest, TResponse>(RpcStreamingMethod<TRequest, RpcVoid, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        StreamAsync((client, token) => client.InvokeServerStreaming(method, request, token), cancellationToken);

    public ValueTask<TResponse> InvokeClientStreamingAsync<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken) =>
        InvokeClientStreamingSlowAsync(method, request, items, cancellationToken);

    public IAsyncEnumerable<TResponse> InvokeDuplexStreaming<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken) =>
        StreamAsync((client, token) => client.InvokeDuplexStreaming(method, request, items, token), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _connecting.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_client is { } client)
            {
                _client = null;
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>The connected client, or null when the next call must connect first.</summary>
    private RpcClient? Current => _client is { } client && !client.Completion.IsCompleted ? client : null;

    private async ValueTask<RpcClient> ConnectAsync(CancellationToken cancellationToken)
    {
        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Current is { } client)
            {
                return client;
            }

            if (_client is { } ended)
            {
                await ended.DisposeAsync().ConfigureAwait(false);
            }

            _client = await connect(cancellationToken).ConfigureAwait(false);
            return _client;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private async ValueTask<TResponse> InvokeSlowAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
    {
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await client.InvokeAsync(method, request, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask SendSlowAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request)
    {
        var client = await ConnectAsync(CancellationToken.None).ConfigureAwait(false);
        await client.SendAsync(method, request).ConfigureAwait(false);
    }

    private async ValueTask<TResponse> InvokeClientStreamingSlowAsync<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken)
    {
        var client = Current ?? await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await client.InvokeClientStreamingAsync(method, request, items, cancellationToken).ConfigureAwait(false);
    }

    private async IAsyncEnumerable<TResponse> StreamAsync<TResponse>(Func<RpcClient, CancellationToken, IAsyncEnumerable<TResponse>> start, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var client = Current ?? await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var item in start(client, cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }
}
