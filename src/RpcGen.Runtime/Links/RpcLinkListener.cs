namespace RpcGen.Links;

/// <summary>Accepts inbound links on one address.</summary>
public abstract class RpcLinkListener : IAsyncDisposable
{
    /// <summary>The address actually listened on (a <c>tcp://…:0</c> request reports the chosen port).</summary>
    public abstract string Address { get; }

    /// <summary>Waits for the next link; returns null once the listener is disposed.</summary>
    public abstract ValueTask<RpcLink?> AcceptAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops listening. Links already accepted stay open.</summary>
    public abstract ValueTask DisposeAsync();
}
