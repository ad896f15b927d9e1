namespace RpcGen.Capnp;

/// <summary>
/// The results of a call. Read them while this is alive; capabilities read from the results are new
/// references the reader owns. Disposing releases the message and the references it holds.
/// </summary>
public sealed class CallResponse : IDisposable
{
    private ResponseCore? _core;

    internal CallResponse(ResponseCore core)
    {
        _core = core;
        Content = core.Content;
    }

    /// <summary>The results pointer (usually a struct).</summary>
    public PointerReader Content { get; }

    /// <summary>The results as a struct.</summary>
    public StructReader Results => Content.GetStruct();

    internal ResponseCore? Core => _core;

    /// <summary>Releases the results.</summary>
    public void Dispose() => Interlocked.Exchange(ref _core, null)?.Release();
}
