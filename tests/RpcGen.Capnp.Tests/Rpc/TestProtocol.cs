using T = RpcGen.Capnp.CapnpFieldType;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>
/// The interfaces of <c>interop/test.capnp</c>, hand-bound over the low-level API. Parameter and
/// result layouts come from <see cref="CapnpLayout.ComputeParameters"/>, the same algorithm the
/// schema compiler runs for the C++ peers.
/// </summary>
internal static class TestProtocol
{
    public const ulong CounterId = 0xcf954dd6181fcbd0;
    public const ulong CallbackId = 0x9e3876eaa38434c3;
    public const ulong ServiceId = 0x97f0e81144b0f7ec;

    public static class Methods
    {
        public const ushort Echo = 0, Add = 1, NewCounter = 2, CallBack = 3, Fail = 4, Block = 5, EchoCap = 6, Hold = 7, DropHeld = 8, Stats = 9, Self = 10;
    }

    public static readonly StructLayout TextParams = CapnpLayout.ComputeParameters([("text", T.Text)]);
    public static readonly StructLayout AddParams = CapnpLayout.ComputeParameters([("a", T.Int64), ("b", T.Int64)]);
    public static readonly StructLayout AddResults = CapnpLayout.ComputeParameters([("sum", T.Int64)]);
    public static readonly StructLayout NewCounterParams = CapnpLayout.ComputeParameters([("start", T.UInt64)]);
    public static readonly StructLayout CapParams = CapnpLayout.ComputeParameters([("cap", T.InterfaceNamed("Counter"))]);
    public static readonly StructLayout CallBackParams = CapnpLayout.ComputeParameters([("callback", T.InterfaceNamed("Callback")), ("message", T.Text)]);
    public static readonly StructLayout FailParams = CapnpLayout.ComputeParameters([("message", T.Text), ("kind", T.UInt16)]);
    public static readonly StructLayout StatsResults = CapnpLayout.ComputeParameters([("countersDestroyed", T.UInt32), ("blocksCancelled", T.UInt32), ("blocksStarted", T.UInt32)]);
    public static readonly StructLayout ValueResults = CapnpLayout.ComputeParameters([("value", T.UInt64)]);

    public static StructBuilder Init(CapnpRequest request, StructLayout layout) => request.InitParams((ushort)layout.DataWords, (ushort)layout.PointerCount);

    public static StructBuilder Init(CallContext context, StructLayout layout) => context.InitResults((ushort)layout.DataWords, (ushort)layout.PointerCount);

    public static int Field(this StructLayout layout, string name) => layout.Fields[name].Offset;

    // ----- client side -----

    public static async Task<string?> EchoAsync(Capability service, string text, CancellationToken cancellationToken = default)
    {
        using var promise = Echo(service, text, cancellationToken);
        using var response = await promise;
        return response.Results.ReadText(TextParams.Field("text"));
    }

    public static CallPromise Echo(Capability service, string text, CancellationToken cancellationToken = default)
    {
        using var request = service.NewRequest(ServiceId, Methods.Echo);
        Init(request, TextParams).WriteText(TextParams.Field("text"), text);
        return request.Send(cancellationToken);
    }

    public static async Task<long> AddAsync(Capability service, long a, long b)
    {
        using var request = service.NewRequest(ServiceId, Methods.Add);
        var p = Init(request, AddParams);
        p.WriteInt64(AddParams.Field("a"), a);
        p.WriteInt64(AddParams.Field("b"), b);
        using var promise = request.Send();
        using var response = await promise;
        return response.Results.ReadInt64(AddResults.Field("sum"));
    }

    public static CallPromise NewCounter(Capability service, ulong start)
    {
        using var request = service.NewRequest(ServiceId, Methods.NewCounter);
        Init(request, NewCounterParams).WriteUInt64(NewCounterParams.Field("start"), start);
        return request.Send();
    }

    public static CallPromise Increment(Capability counter)
    {
        using var request = counter.NewRequest(CounterId, 0);
        return request.Send();
    }

    public static async Task<ulong> IncrementAsync(Capability counter)
    {
        using var promise = Increment(counter);
        using var response = await promise;
        return response.Results.ReadUInt64(ValueResults.Field("value"));
    }

    public static async Task<string?> CallBackAsync(Capability service, Capability callback, string message)
    {
        using var request = service.NewRequest(ServiceId, Methods.CallBack);
        var p = Init(request, CallBackParams);
        p.WriteCapability(CallBackParams.Field("callback"), callback);
        p.WriteText(CallBackParams.Field("message"), message);
        using var promise = request.Send();
        using var response = await promise;
        return response.Results.ReadText(0);
    }

    public static async Task FailAsync(Capability service, string message, ushort kind)
    {
        using var request = service.NewRequest(ServiceId, Methods.Fail);
        var p = Init(request, FailParams);
        p.WriteText(FailParams.Field("message"), message);
        p.WriteUInt16(FailParams.Field("kind"), kind);
        using var promise = request.Send();
        using var response = await promise;
    }

    public static CallPromise Block(Capability service, CancellationToken cancellationToken = default)
    {
        using var request = service.NewRequest(ServiceId, Methods.Block);
        return request.Send(cancellationToken);
    }

    public static CallPromise EchoCap(Capability service, Capability cap)
    {
        using var request = service.NewRequest(ServiceId, Methods.EchoCap);
        Init(request, CapParams).WriteCapability(CapParams.Field("cap"), cap);
        return request.Send();
    }

    public static async Task HoldAsync(Capability service, Capability cap)
    {
        using var request = service.NewRequest(ServiceId, Methods.Hold);
        Init(request, CapParams).WriteCapability(CapParams.Field("cap"), cap);
        using var promise = request.Send();
        using var response = await promise;
    }

    public static async Task DropHeldAsync(Capability service)
    {
        using var request = service.NewRequest(ServiceId, Methods.DropHeld);
        using var promise = request.Send();
        using var response = await promise;
    }

    public static async Task<(uint CountersDestroyed, uint BlocksCancelled, uint BlocksStarted)> StatsAsync(Capability service)
    {
        using var request = service.NewRequest(ServiceId, Methods.Stats);
        using var promise = request.Send();
        using var response = await promise;
        var r = response.Results;
        return (r.ReadUInt32(StatsResults.Field("countersDestroyed")), r.ReadUInt32(StatsResults.Field("blocksCancelled")), r.ReadUInt32(StatsResults.Field("blocksStarted")));
    }

    public static CallPromise Self(Capability service)
    {
        using var request = service.NewRequest(ServiceId, Methods.Self);
        return request.Send();
    }

    /// <summary>Polls <paramref name="condition"/> through calls (no sleeping): each round trip gives the peer time to act.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var value = await probe();
            if (condition(value))
            {
                return value;
            }

            cts.Token.ThrowIfCancellationRequested();
            await Task.Yield();
        }
    }
}
