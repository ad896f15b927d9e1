namespace RpcGen.Transport.Message;

/// <summary>
/// The objects one connection passed across as capabilities: those this side exported to the peer
/// (callbacks sent as arguments or results), with the references the peer holds, and the peer's
/// exports this side holds proxies for.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>An export is listed from the first time its object is serialized until the peer releases
/// every reference it was sent, or the connection closes (<see cref="ClearExports"/>). The same
/// object always goes out under the same id while it is listed (<c>_exportIds</c> is the inverse of
/// <c>_exports</c>).</item>
/// <item>Export ids are never zero and never reused while listed. A release for an id that is not
/// listed, or of more references than were sent, is a protocol violation.</item>
/// <item>An import is listed from the first reference the peer sent until its proxy is disposed;
/// its <see cref="ImportChannel.References"/> counts the references received and is released all
/// at once.</item>
/// </list>
/// Lock order: two leaf locks, never nested and never held while anything else runs. The exports
/// lock (<c>_exports</c>) guards <c>_exports</c>, <c>_exportIds</c>, <c>_lastExportId</c> and each
/// entry's reference count; the imports lock (<c>_imports</c>) guards <c>_imports</c> and each
/// channel's <see cref="ImportChannel.References"/>.
/// </remarks>
internal sealed class CapabilityTable
{
    // Objects this side exported, by export id, and the way back from object to id.
    private readonly Dictionary<uint, ExportEntry> _exports = new();
    private readonly Dictionary<object, uint> _exportIds = new(ReferenceEqualityComparer.Instance);
    private uint _lastExportId;

    // Objects the peer exported to this side, by the peer's export id.
    private readonly Dictionary<uint, ImportChannel> _imports = new();

    /// <summary>The export id of <paramref name="implementation"/>, listing it on first use; each call counts one more reference sent to the peer.</summary>
    public uint Export<TService>(TService implementation)
        where TService : class
    {
        lock (_exports)
        {
            if (_exportIds.TryGetValue(implementation, out var existing))
            {
                _exports[existing].References++;
                return existing;
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
            return id;
        }
    }

    /// <summary>This side's exported object <paramref name="exportId"/>, when it is listed and is a <typeparamref name="TService"/>.</summary>
    public TService? FindOwn<TService>(uint exportId)
        where TService : class
    {
        lock (_exports)
        {
            return _exports.TryGetValue(exportId, out var export) ? export.Implementation as TService : null;
        }
    }

    /// <summary>The dispatcher for a call to this side's export <paramref name="exportId"/>; null when it was released or never exported.</summary>
    public IRpcDispatcher? FindExport(ulong exportId)
    {
        lock (_exports)
        {
            return exportId <= uint.MaxValue && _exports.TryGetValue((uint)exportId, out var export) ? export.Dispatcher : null;
        }
    }

    /// <summary>The peer released <paramref name="count"/> references to export <paramref name="exportId"/>; the last one unlists it.</summary>
    public void Release(uint exportId, uint count)
    {
        lock (_exports)
        {
            if (!_exports.TryGetValue(exportId, out var export))
            {
                throw new ProtocolViolation($"The peer released object {exportId}, which this side never exported to it (or it was already released).");
            }

            export.References -= count;
            if (export.References < 0 || count == 0)
            {
                throw new ProtocolViolation($"The peer released object {exportId} more times than it was given it.");
            }

            if (export.References == 0)
            {
                _exports.Remove(exportId);
                _exportIds.Remove(export.Implementation);
            }
        }
    }

    /// <summary>Unlists every export: the peer is gone, and with it every reference it held.</summary>
    public void ClearExports()
    {
        lock (_exports)
        {
            _exports.Clear();
            _exportIds.Clear();
        }
    }

    /// <summary>The channel for the peer's export <paramref name="exportId"/>, listing it on first use; counts one more reference received.</summary>
    public ImportChannel Import(MessageConnection connection, uint exportId)
    {
        lock (_imports)
        {
            if (!_imports.TryGetValue(exportId, out var channel))
            {
                channel = new ImportChannel(connection, exportId);
                _imports.Add(exportId, channel);
            }

            channel.References++;
            return channel;
        }
    }

    /// <summary>Unlists <paramref name="channel"/>; returns the references to release to the peer, or null when it was not listed.</summary>
    public long? RemoveImport(ImportChannel channel)
    {
        lock (_imports)
        {
            if (!_imports.Remove(channel.ExportId, out var current) || !ReferenceEquals(current, channel))
            {
                return null;
            }

            return channel.References;
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
