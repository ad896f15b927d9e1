namespace RpcGen.Capnp;

/// <summary>
/// A call being prepared: write the parameters into <see cref="Params"/> (usually with
/// <see cref="InitParams"/>), then <see cref="Send"/>. Capabilities written into the parameters are
/// passed by reference. Disposing an unsent request releases what was written.
/// </summary>
public sealed class CapnpRequest : IDisposable
{
    private CapabilityHook? _target;
    private CallRequest? _request;

    internal CapnpRequest(CapabilityHook target, ulong interfaceId, ushort methodId)
    {
        _target = target;
        _request = CallRequest.Create(interfaceId, methodId);
    }

    /// <summary>Where the parameters go.</summary>
    public PointerBuilder Params => (_request ?? throw Sent()).ParamsBuilder;

    /// <summary>Initializes the parameters as a struct.</summary>
    public StructBuilder InitParams(ushort dataWords, ushort pointerCount) => Params.InitStruct(dataWords, pointerCount);

    /// <summary>The size of the parameters written so far, in bytes.</summary>
    internal long ParamsBytes => (_request ?? throw Sent()).BuiltBytes;

    /// <summary>
    /// Sends the call. The returned promise yields the results and, before they arrive, lets calls be
    /// pipelined on capabilities they will contain. Cancelling <paramref name="cancellationToken"/>
    /// tells the callee to stop (a <c>Finish</c> before the <c>Return</c>).
    /// </summary>
    public CallPromise Send(CancellationToken cancellationToken = default)
    {
        var target = _target ?? throw Sent();
        var request = _request!;
        _target = null;
        _request = null;
        try
        {
            return new CallPromise(target.Call(request), cancellationToken);
        }
        finally
        {
            target.Release();
        }
    }

    /// <summary>Releases an unsent request.</summary>
    public void Dispose()
    {
        _request?.ReleaseParams();
        _request = null;
        _target?.Release();
        _target = null;
    }

    private static InvalidOperationException Sent() => new("The request was already sent or disposed.");
}
