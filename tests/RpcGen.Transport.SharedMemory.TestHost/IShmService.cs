#pragma warning disable RPC0029 // shared-memory transport contract, never exported as a Cap'n Proto schema: its ordinals start at 1

namespace RpcGen.Transport.SharedMemory.TestHost;

/// <summary>
/// What the shared-memory tests call in the host process. Compiled into both the host and the tests
/// (the same source, so the same ids).
/// </summary>
[RpcService(0x5E57_5000_0000_0001)]
public interface IShmService
{
    /// <summary>Adds two numbers.</summary>
    [RpcMethod(1)]
    Task<int> AddAsync(int a, int b);

    /// <summary>Returns what it was given (sizes larger than a window cross in many hand-offs each way).</summary>
    [RpcMethod(2)]
    Task<byte[]> EchoAsync(byte[] data);

    /// <summary>The host process's id.</summary>
    [RpcMethod(3)]
    Task<int> ProcessIdAsync();

    /// <summary>Prints "started TEXT" and never answers.</summary>
    [RpcMethod(4)]
    Task<string> HangAsync(string text);

    /// <summary>Streams 0..count-1 to the caller.</summary>
    [RpcMethod(5)]
    IAsyncEnumerable<int> CountAsync(int count);

    /// <summary>Sums a stream the caller sends.</summary>
    [RpcMethod(6)]
    Task<long> SumAsync(IAsyncEnumerable<int> values);

    /// <summary>Calls <paramref name="callback"/> <paramref name="times"/> times (server-to-client calls) and sums the answers.</summary>
    [RpcMethod(7)]
    Task<long> CallBackAsync(IShmCallback callback, int times);
}

/// <summary>A callback a client passes to the host by reference.</summary>
[RpcService(0x5E57_5000_0000_0002)]
public interface IShmCallback
{
    /// <summary>Doubles <paramref name="value"/> in the client.</summary>
    [RpcMethod(1)]
    Task<int> TwiceAsync(int value);
}
