namespace RpcGen.Transport.Message;

/// <summary>
/// The channel behind a proxy for an object the peer exported (a callback passed as an argument or
/// result). Calls go to that object over the same connection; disposing releases the reference.
/// </summary>
internal sealed class ImportChannel(MessageConnection connection, uint exportId) : IRpcCapabilityChannel
{
    // How many times the peer sent us this export id; released all at once. Guarded by the
    // imports lock of the connection's CapabilityTable.
    internal long References;

    // Set once released: calls fail locally from then on.
    private volatile bool _released;

    public uint ExportId => exportId;

    /// <summary>The connection the export lives across.</summary>
    internal MessageConnection Owner => connection;

    /// <summary>Whether this reference was released.</summary>
    internal bool IsReleased => _released;

    public ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        _released
            ? ValueTask.FromException<TResponse>(Released())
            : connection.InvokeAsync(method, request, cancellationToken, exportId);

    public ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request) =>
        _released ? ValueTask.FromException(Released()) : connection.SendAsync(method, request, exportId);

    public ValueTask DisposeAsync()
    {
        if (!_released)
        {
            _released = true;
            connection.ReleaseImport(this);
        }

        return default;
    }

    private RpcException Released() =>
        new(RpcStatusCode.Disconnected, $"The reference to the peer's object {exportId} was released; it cannot be called any more.");
}
