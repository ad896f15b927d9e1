using Microsoft.Extensions.Logging;
using RpcGen.Links;

namespace RpcGen.Transport.Message;

/// <summary>
/// Opens one client connection: the link, then the hello exchange, all within
/// <see cref="RpcClientOptions.ConnectTimeout"/>. Used for the first connection and for each
/// reconnection attempt.
/// </summary>
internal static class ClientConnector
{
    /// <summary>Connects to <paramref name="address"/> and completes the handshake; the connection returned is ready for calls.</summary>
    /// <exception cref="RpcException">
    /// <see cref="RpcStatusCode.Disconnected"/> naming the address when nothing answers, the connect
    /// timeout passed, or the server closed the connection; <see cref="RpcStatusCode.ProtocolError"/>
    /// when the server speaks another protocol version (the message names both).
    /// </exception>
    public static async Task<MessageConnection> ConnectAsync(string address, RpcClientOptions options, ILogger logger, Action<MessageConnection>? onClosed, CancellationToken cancellationToken)
    {
        using var timeout = options.ConnectTimeout == Timeout.InfiniteTimeSpan
            ? new CancellationTokenSource()
            : new CancellationTokenSource(options.ConnectTimeout, options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);

        RpcLink link;
        try
        {
            link = await RpcLinks.ConnectAsync(address, options.Limits, options.Tls, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(address, options, "the connection was not accepted");
        }

        var connection = Open(link, options, logger, onClosed);
        try
        {
            await connection.WaitForPeerHelloAsync(linked.Token).ConfigureAwait(false);
            return connection;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw TimedOut(address, options, "the server accepted the connection but did not answer the hello");
        }
        catch (RpcException ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            var code = ex.StatusCode == RpcStatusCode.ProtocolError ? RpcStatusCode.ProtocolError : RpcStatusCode.Disconnected;
            throw new RpcException(code, $"Cannot connect to {address}: {ex.Message}", ex);
        }
        catch (OperationCanceledException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs the client side of the protocol over an open link: starts reading and sends the hello,
    /// without waiting for the answer. <paramref name="onClosed"/> runs when the connection closes,
    /// before its <see cref="MessageConnection.Completion"/> completes.
    /// </summary>
    public static MessageConnection Open(RpcLink link, RpcClientOptions options, ILogger logger, Action<MessageConnection>? onClosed)
    {
        var connection = new MessageConnection(link, options.Limits, logger, dispatchers: null, options.DefaultTimeout, onClosed, options.Compression, options.CompressionThresholdBytes, handlerExecution: options.HandlerExecution)
        {
            // Every connection of a reconnecting client runs the same interceptors; a call re-sent
            // after a drop runs through them again.
            ClientInterceptors = options.Interceptors.Count == 0 ? null : [.. options.Interceptors],
        };
        connection.Attach(new KeepAlive(connection, options.TimeProvider, options.KeepAliveInterval, options.KeepAliveTimeout));
        connection.Start();
        connection.SendHello();
        return connection;
    }

    private static RpcException TimedOut(string address, RpcClientOptions options, string what) =>
        new(RpcStatusCode.Disconnected, $"Cannot connect to {address} within {options.ConnectTimeout.TotalSeconds:0.###} s (RpcClientOptions.ConnectTimeout): {what}.");
}
