using static RpcGen.Capnp.Tests.Rpc.TestProtocol;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>The C# implementation of <c>TestService</c>, behaving like the C++ peer's.</summary>
internal sealed class TestServiceServer : ICapabilityServer, IDisposable
{
    private readonly object _gate = new();
    private Capability? _held;
    private int _countersDestroyed;
    private int _blocksCancelled;
    private int _blocksStarted;

    public TaskCompletionSource BlockStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource BlockCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource CounterDestroyed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int CountersDestroyed => Volatile.Read(ref _countersDestroyed);

    public async Task DispatchAsync(CallContext context)
    {
        if (context.InterfaceId != ServiceId)
        {
            throw new RpcException(RpcStatusCode.Unimplemented, $"Unknown interface {context.InterfaceId:x}.");
        }

        var p = context.Params.GetStruct();
        switch (context.MethodId)
        {
            case Methods.Echo:
                Init(context, TextParams).WriteText(TextParams.Field("text"), p.ReadText(TextParams.Field("text")));
                break;

            case Methods.Add:
                Init(context, AddResults).WriteInt64(AddResults.Field("sum"), p.ReadInt64(AddParams.Field("a")) + p.ReadInt64(AddParams.Field("b")));
                break;

            case Methods.NewCounter:
            {
                var counter = new CounterServer(p.ReadUInt64(NewCounterParams.Field("start")), () =>
                {
                    Interlocked.Increment(ref _countersDestroyed);
                    CounterDestroyed.TrySetResult();
                });
                using var capability = Capability.FromServer(counter);
                Init(context, CapParams).WriteCapability(CapParams.Field("cap"), capability);
                break;
            }

            case Methods.CallBack:
            {
                using var callback = p.ReadCapability(CallBackParams.Field("callback")) ?? throw new RpcException(RpcStatusCode.Failed, "No callback.");
                var message = p.ReadText(CallBackParams.Field("message"));
                using var request = callback.NewRequest(CallbackId, 0);
                Init(request, TextParams).WriteText(0, message);
                using var promise = request.Send();
                using var response = await promise;
                Init(context, TextParams).WriteText(0, response.Results.ReadText(0));
                break;
            }

            case Methods.Fail:
                throw new RpcException(
                    p.ReadUInt16(FailParams.Field("kind")) switch
                    {
                        1 => RpcStatusCode.Overloaded,
                        2 => RpcStatusCode.Disconnected,
                        3 => RpcStatusCode.Unimplemented,
                        _ => RpcStatusCode.Failed,
                    },
                    p.ReadText(FailParams.Field("message")) ?? string.Empty);

            case Methods.Block:
                Interlocked.Increment(ref _blocksStarted);
                BlockStarted.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, context.CancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref _blocksCancelled);
                    BlockCancelled.TrySetResult();
                    throw;
                }

                break;

            case Methods.EchoCap:
            {
                using var cap = p.ReadCapability(CapParams.Field("cap"));
                Init(context, CapParams).WriteCapability(CapParams.Field("cap"), cap);
                break;
            }

            case Methods.Hold:
            {
                var cap = p.ReadCapability(CapParams.Field("cap"));
                lock (_gate)
                {
                    _held?.Dispose();
                    _held = cap;
                }

                break;
            }

            case Methods.DropHeld:
                lock (_gate)
                {
                    _held?.Dispose();
                    _held = null;
                }

                break;

            case Methods.Stats:
            {
                var r = Init(context, StatsResults);
                r.WriteUInt32(StatsResults.Field("countersDestroyed"), (uint)Volatile.Read(ref _countersDestroyed));
                r.WriteUInt32(StatsResults.Field("blocksCancelled"), (uint)Volatile.Read(ref _blocksCancelled));
                r.WriteUInt32(StatsResults.Field("blocksStarted"), (uint)Volatile.Read(ref _blocksStarted));
                break;
            }

            case Methods.Self:
            {
                using var self = Capability.FromServer(new SelfForwarder(this));
                Init(context, CapParams).WriteCapability(0, self);
                break;
            }

            default:
                throw new RpcException(RpcStatusCode.Unimplemented, $"Unknown method {context.MethodId}.");
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _held?.Dispose();
            _held = null;
        }

        Disposed.TrySetResult();
    }

    /// <summary>Another capability to the same service (so disposing it does not dispose the service).</summary>
    private sealed class SelfForwarder(TestServiceServer inner) : ICapabilityServer
    {
        public Task DispatchAsync(CallContext context) => inner.DispatchAsync(context);
    }
}

internal sealed class CounterServer(ulong start, Action? onDispose = null) : ICapabilityServer, IDisposable
{
    private long _value = (long)start;

    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task DispatchAsync(CallContext context)
    {
        if (context.InterfaceId != CounterId || context.MethodId != 0)
        {
            throw new RpcException(RpcStatusCode.Unimplemented, "Counter has only increment().");
        }

        Init(context, ValueResults).WriteUInt64(0, (ulong)Interlocked.Increment(ref _value));
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        onDispose?.Invoke();
        Disposed.TrySetResult();
    }
}

internal sealed class CallbackServer(Func<string?, string> reply) : ICapabilityServer, IDisposable
{
    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task DispatchAsync(CallContext context)
    {
        Init(context, TextParams).WriteText(0, reply(context.Params.GetStruct().ReadText(0)));
        return Task.CompletedTask;
    }

    public void Dispose() => Disposed.TrySetResult();
}

/// <summary>
/// A counter that is also a callback: a callback call blocks its thread until <see cref="Gate"/> opens,
/// which holds back the calls queued behind it on the same connection.
/// </summary>
internal sealed class GatedCounterServer(ulong start) : ICapabilityServer, IDisposable
{
    private long _value = (long)start;

    public ManualResetEventSlim Gate { get; } = new();

    public Task DispatchAsync(CallContext context)
    {
        if (context.InterfaceId == CallbackId)
        {
            // Bounded only so that a broken run cannot hold a thread for ever.
            var opened = Gate.Wait(TimeSpan.FromMinutes(2));
            Init(context, TextParams).WriteText(0, opened ? "opened" : "timed out");
            return Task.CompletedTask;
        }

        Init(context, ValueResults).WriteUInt64(0, (ulong)Interlocked.Increment(ref _value));
        return Task.CompletedTask;
    }

    public void Dispose() => Gate.Set();
}
