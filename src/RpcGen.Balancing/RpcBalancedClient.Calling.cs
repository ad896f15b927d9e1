using System.Runtime.CompilerServices;
using RpcGen.Transport.Message;

namespace RpcGen.Balancing;

/// <summary>Calls: pick an endpoint, send, and send elsewhere what was refused unsent.</summary>
public sealed partial class RpcBalancedClient
{
    /// <inheritdoc />
    public ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        method.IsIdempotent && _pipeline is not null
            ? InvokeResilientAsync(method, request, cancellationToken)
            : RunAsync(
                (method, request),
                static (client, call, token) => client.InvokeAsync(call.method, call.request, token),
                method,
                attempts: null,
                cancellationToken);

    /// <inheritdoc />
    public async ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request) =>
        await RunAsync(
            (method, request),
            static async (client, call, _) =>
            {
                await client.SendAsync(call.method, call.request).ConfigureAwait(false);
                return RpcVoid.Value;
            },
            method,
            attempts: null,
            CancellationToken.None).ConfigureAwait(false);

    /// <inheritdoc />
    public IAsyncEnumerable<TResponse> InvokeServerStreaming<TRequest, TResponse>(RpcStreamingMethod<TRequest, RpcVoid, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        StreamAsync(client => client.InvokeServerStreaming(method, request, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public async ValueTask<TResponse> InvokeClientStreamingAsync<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken)
    {
        // Never redirected: the items may have been read already, and a sequence is read once.
        var endpoint = await PickAsync(attempts: null, cancellationToken).ConfigureAwait(false);
        endpoint.BeginCall();
        try
        {
            return await endpoint.Client!.InvokeClientStreamingAsync(method, request, items, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            endpoint.EndCall();
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<TResponse> InvokeDuplexStreaming<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken) =>
        StreamAsync(client => client.InvokeDuplexStreaming(method, request, items, cancellationToken), cancellationToken);

    /// <summary>
    /// Runs one attempt of a call on a ready endpoint. A refusal that proves the call did not run
    /// (<see cref="RpcException.NotProcessed"/>: the endpoint closed or started draining just as it was
    /// picked) sends it to another endpoint, up to <see cref="MaxRedirects"/> times.
    /// </summary>
    private async ValueTask<TResult> RunAsync<TState, TResult>(TState state, Func<RpcClient, TState, CancellationToken, ValueTask<TResult>> call, RpcMethodInfo method, CallAttempts? attempts, CancellationToken cancellationToken)
    {
        using var deadline = SpanningDeadline();
        for (var redirects = 0; ; redirects++)
        {
            var endpoint = await PickAsync(attempts, cancellationToken).ConfigureAwait(false);
            attempts?.Add(endpoint);
            endpoint.BeginCall();
            try
            {
                // The endpoint's own client must fail fast rather than wait for its reconnection:
                // waiting for some ready endpoint is this client's job.
                using (RpcWaitForReady.Set(false))
                {
                    return await call(endpoint.Client!, state, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (RpcException ex) when (ex.NotProcessed && redirects < MaxRedirects && !_disposing.IsCancellationRequested)
            {
                BalancerLog.Redirecting(_logger, method.FullName, endpoint.Address, ex.Message);
                attempts ??= new CallAttempts();
                attempts.Add(endpoint);
            }
            finally
            {
                endpoint.EndCall();
            }
        }
    }

    private async IAsyncEnumerable<T> StreamAsync<T>(Func<RpcClient, IAsyncEnumerable<T>> start, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The stream starts when enumeration does, on the endpoint picked then, and stays there.
        var endpoint = await PickAsync(attempts: null, cancellationToken).ConfigureAwait(false);
        endpoint.BeginCall();
        try
        {
            await foreach (var item in start(endpoint.Client!).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            endpoint.EndCall();
        }
    }

    /// <summary>
    /// Outside any deadline scope, <see cref="RpcClientOptions.DefaultTimeout"/> becomes the call's
    /// deadline here, once, so that it spans every attempt and every wait for an endpoint.
    /// </summary>
    private RpcDeadline.Scope? SpanningDeadline() =>
        RpcDeadline.Current is null && _options.Client.DefaultTimeout is { } timeout ? RpcDeadline.After(timeout) : null;
}
