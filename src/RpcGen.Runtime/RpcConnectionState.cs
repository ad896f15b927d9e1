namespace RpcGen;

/// <summary>The state of a client's connection to its server (the names gRPC uses for a channel).</summary>
public enum RpcConnectionState
{
    /// <summary>Connecting: a connect and handshake are under way.</summary>
    Connecting,

    /// <summary>Connected: calls go out at once.</summary>
    Ready,

    /// <summary>The last attempt failed or the connection dropped; the client waits out its backoff before the next attempt.</summary>
    TransientFailure,

    /// <summary>The client is disposed, or its connection closed and it does not reconnect. Final.</summary>
    Shutdown,
}
