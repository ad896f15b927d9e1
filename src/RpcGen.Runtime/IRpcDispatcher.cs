using System.Buffers;

namespace RpcGen;

/// <summary>
/// The server side of one service: the generated skeleton implements it by switching on the method
/// id, reading the request envelope, calling the implementation and completing the call.
/// </summary>
public interface IRpcDispatcher
{
    /// <summary>The service this dispatcher serves.</summary>
    RpcServiceInfo Service { get; }

    /// <summary>Finds a method by ordinal, or null when the service has no such method.</summary>
    RpcMethodInfo? FindMethod(uint methodId);

    /// <summary>
    /// Reads <paramref name="payload"/> synchronously (it is only valid during this call), invokes the
    /// implementation and returns a task that completes once the response has been written.
    /// Throws <see cref="RpcException"/> for a payload that does not decode.
    /// </summary>
    ValueTask DispatchAsync(RpcServerCall call, in ReadOnlySequence<byte> payload);
}
