using System.Buffers;
using Microsoft.Extensions.DependencyInjection;

namespace RpcGen.Hosting;

/// <summary>
/// Serves each call with an implementation resolved from a new dependency-injection scope, disposed
/// when the call has been answered (for streaming calls, when the stream has ended).
/// </summary>
internal sealed class PerCallScopeDispatcher<TService, TImplementation> : IRpcDispatcher
    where TService : class
    where TImplementation : class, TService
{
    private readonly IServiceScopeFactory _scopes;

    // The generated dispatcher answers FindMethod and Service without touching its implementation,
    // so one is built around a proxy that is never called, for the lookups the transport makes
    // before there is a call to resolve an implementation for.
    private readonly IRpcDispatcher _lookup;

    public PerCallScopeDispatcher(IServiceScopeFactory scopes)
    {
        _scopes = scopes;
        _lookup = RpcServiceRegistry.CreateDispatcher(RpcServiceRegistry.CreateProxy<TService>(UncallableChannel.Instance));
    }

    public RpcServiceInfo Service => _lookup.Service;

    public RpcMethodInfo? FindMethod(uint methodId) => _lookup.FindMethod(methodId);

    public ValueTask DispatchAsync(RpcServerCall call, in ReadOnlySequence<byte> payload)
    {
        var scope = _scopes.CreateAsyncScope();
        ValueTask dispatch;
        try
        {
            var implementation = scope.ServiceProvider.GetRequiredService<TImplementation>();
            dispatch = RpcServiceRegistry.CreateDispatcher<TService>(implementation).DispatchAsync(call, payload);
        }
        catch
        {
            // A payload that does not decode, or a dependency that cannot be built: the call fails
            // with what was thrown, and the scope ends with it.
            _ = DisposeQuietlyAsync(scope);
            throw;
        }

        if (!dispatch.IsCompleted)
        {
            return DisposeWhenDoneAsync(dispatch, scope);
        }

        var disposal = scope.DisposeAsync();
        if (dispatch.IsCompletedSuccessfully && disposal.IsCompletedSuccessfully)
        {
            return default;
        }

        return DisposeWhenDoneAsync(dispatch, disposal);
    }

    private static async ValueTask DisposeWhenDoneAsync(ValueTask dispatch, AsyncServiceScope scope)
    {
        try
        {
            await dispatch.ConfigureAwait(false);
        }
        finally
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async ValueTask DisposeWhenDoneAsync(ValueTask dispatch, ValueTask disposal)
    {
        try
        {
            await dispatch.ConfigureAwait(false);
        }
        finally
        {
            await disposal.ConfigureAwait(false);
        }
    }

    private static async Task DisposeQuietlyAsync(AsyncServiceScope scope)
    {
        try
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The call already failed; a dependency that also fails to dispose changes nothing for it.
        }
    }
}
