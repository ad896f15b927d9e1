namespace RpcGen;

/// <summary>The shape of a call.</summary>
public enum RpcMethodKind
{
    /// <summary>One request, one response (or error).</summary>
    Unary = 0,

    /// <summary>One request, no response: fire and forget.</summary>
    OneWay = 1,

    /// <summary>One request, then a stream of items from the server (<c>IAsyncEnumerable&lt;T&gt;</c> result, or a <c>Stream</c> result).</summary>
    ServerStreaming = 2,

    /// <summary>One request and a stream of items from the client, then one response (<c>IAsyncEnumerable&lt;T&gt;</c> or <c>Stream</c> parameter).</summary>
    ClientStreaming = 3,

    /// <summary>Streams both ways at once.</summary>
    DuplexStreaming = 4,
}
