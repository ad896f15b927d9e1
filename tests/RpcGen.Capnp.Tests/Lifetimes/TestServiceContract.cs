namespace RpcGen.Capnp.Tests.Lifetimes;

/// <summary>
/// <c>TestService</c> of <c>interop/test.capnp</c> (methods 0 to 8) as a plain C# contract: its generated
/// Cap'n Proto binding has the schema's ids and ordinals, so our generated client and server speak to
/// the C++ test peers, and one scenario runs against either side.
/// </summary>
[RpcService(0x97f0e81144b0f7ec)]
public interface ITestService
{
    [RpcMethod(0)]
    Task<string> EchoAsync(string text);

    [RpcMethod(1)]
    Task<long> AddAsync(long a, long b);

    /// <summary>A new counter, usable at once (calls on it are pipelined).</summary>
    [RpcMethod(2)]
    ICounter NewCounter(ulong start);

    /// <summary>Calls <paramref name="callback"/> with <paramref name="message"/> and returns its reply.</summary>
    [RpcMethod(3)]
    Task<string> CallBackAsync(ICallback callback, string message);

    [RpcMethod(4)]
    Task FailAsync(string message, ushort kind);

    [RpcMethod(5)]
    Task BlockAsync(CancellationToken cancellationToken);

    [RpcMethod(6)]
    Task<ICounter> EchoCapAsync(ICounter cap);

    /// <summary>Keeps <paramref name="cap"/> until <see cref="DropHeldAsync"/>.</summary>
    [RpcMethod(7)]
    Task HoldAsync(ICounter cap);

    /// <summary>Uses the counter <see cref="HoldAsync"/> kept (our server increments it), then lets go of it.</summary>
    [RpcMethod(8)]
    Task DropHeldAsync();
}

[RpcService(0xcf954dd6181fcbd0)]
public interface ICounter
{
    [RpcMethod(0)]
    Task<ulong> IncrementAsync();
}

[RpcService(0x9e3876eaa38434c3)]
public interface ICallback
{
    [RpcMethod(0)]
    Task<string> NotifyAsync(string message);
}
