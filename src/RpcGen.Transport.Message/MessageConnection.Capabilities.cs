namespace RpcGen.Transport.Message;

/// <summary>Objects exported to and imported from the peer (callbacks passed as arguments or results); the tables are <see cref="CapabilityTable"/>.</summary>
internal sealed partial class MessageConnection
{
    public RpcCapabilityReference Export<TService>(TService implementation)
        where TService : class
    {
        // A proxy for one of the peer's own exports on this connection goes home as that id.
        if (implementation is IRpcProxy { Channel: ImportChannel imported } && imported.Owner == this && !imported.IsReleased)
        {
            return new RpcCapabilityReference(imported.ExportId, ReceiverHosted: true);
        }

        return new RpcCapabilityReference(_capabilities.Export(implementation), ReceiverHosted: false);
    }

    public TService Import<TService>(RpcCapabilityReference reference)
        where TService : class
    {
        if (reference.ReceiverHosted)
        {
            // One of our own objects coming home: hand back the object itself.
            return _capabilities.FindOwn<TService>(reference.Id)
                ?? throw new RpcException(RpcStatusCode.InvalidPayload, $"The peer referred to object {reference.Id} of ours, which is not an exported {typeof(TService).Name}.");
        }

        return RpcServiceRegistry.CreateProxy<TService>(_capabilities.Import(this, reference.Id));
    }

    internal void ReleaseImport(ImportChannel channel)
    {
        if (_capabilities.RemoveImport(channel) is not { } references)
        {
            return;
        }

        if (_lifecycle.IsClosed)
        {
            return;
        }

        var frame = FrameBuffer.Rent();
        frame.WriteHeader(new FrameHeader(FrameKind.Release, 0, 0, channel.ExportId, (uint)Math.Min(references, uint.MaxValue), 0, 0));
        _ = IgnoreFailure(WriteFrameAsync(frame));
    }

    private void HandleRelease(in FrameHeader header) => _capabilities.Release(header.CallId, header.MethodId);
}
