using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using RpcGen.Compression;
using RpcGen.Limits;
using RpcGen.Links;
using RpcGen.Logging;
using RpcGen.Serialization;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message;

/// <summary>Objects exported to and imported from the peer (callbacks passed as arguments or results).</summary>
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

        lock (_exports)
        {
            if (_exportIds.TryGetValue(implementation, out var existing))
            {
                _exports[existing].References++;
                return new RpcCapabilityReference(existing, ReceiverHosted: false);
            }

            var dispatcher = RpcServiceRegistry.CreateDispatcher(implementation);
            uint id;
            do
            {
                id = ++_lastExportId;
            }
            while (id == 0 || _exports.ContainsKey(id));

            _exports.Add(id, new ExportEntry(dispatcher, implementation) { References = 1 });
            _exportIds.Add(implementation, id);
            return new RpcCapabilityReference(id, ReceiverHosted: false);
        }
    }

    public TService Import<TService>(RpcCapabilityReference reference)
        where TService : class
    {
        if (reference.ReceiverHosted)
        {
            // One of our own objects coming home: hand back the object itself.
            lock (_exports)
            {
                if (_exports.TryGetValue(reference.Id, out var export) && export.Implementation is TService own)
                {
                    return own;
                }
            }

            throw new RpcException(RpcStatusCode.InvalidPayload, $"The peer referred to object {reference.Id} of ours, which is not an exported {typeof(TService).Name}.");
        }

        ImportChannel? channel;
        lock (_imports)
        {
            if (!_imports.TryGetValue(reference.Id, out channel))
            {
                channel = new ImportChannel(this, reference.Id);
                _imports.Add(reference.Id, channel);
            }

            channel.References++;
        }

        return RpcServiceRegistry.CreateProxy<TService>(channel);
    }

    internal void ReleaseImport(ImportChannel channel)
    {
        long references;
        lock (_imports)
        {
            if (!_imports.Remove(channel.ExportId, out var current) || !ReferenceEquals(current, channel))
            {
                return;
            }

            references = channel.References;
        }

        if (Volatile.Read(ref _state) == Closed)
        {
            return;
        }

        var frame = FrameBuffer.Rent();
        frame.WriteHeader(new FrameHeader(FrameKind.Release, 0, 0, channel.ExportId, (uint)Math.Min(references, uint.MaxValue), 0, 0));
        _ = IgnoreFailure(WriteFrameAsync(frame));
    }

    private void HandleRelease(in FrameHeader header)
    {
        lock (_exports)
        {
            if (!_exports.TryGetValue(header.CallId, out var export))
            {
                throw new ProtocolViolation($"The peer released object {header.CallId}, which this side never exported to it (or it was already released).");
            }

            export.References -= header.MethodId;
            if (export.References < 0 || header.MethodId == 0)
            {
                throw new ProtocolViolation($"The peer released object {header.CallId} more times than it was given it.");
            }

            if (export.References == 0)
            {
                _exports.Remove(header.CallId);
                _exportIds.Remove(export.Implementation);
            }
        }
    }

    private IRpcDispatcher? FindExport(ulong exportId)
    {
        lock (_exports)
        {
            return exportId <= uint.MaxValue && _exports.TryGetValue((uint)exportId, out var export) ? export.Dispatcher : null;
        }
    }

    /// <summary>An exported object and the references the peer holds to it.</summary>
    private sealed class ExportEntry(IRpcDispatcher dispatcher, object implementation)
    {
        public IRpcDispatcher Dispatcher { get; } = dispatcher;

        public object Implementation { get; } = implementation;

        public long References { get; set; }
    }
}
