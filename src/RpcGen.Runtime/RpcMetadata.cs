using System.Collections;
using System.Text;

namespace RpcGen;

/// <summary>
/// Key/value pairs that travel with a call beside its payload: request headers the caller sets, and
/// response trailers the server sets. Follows gRPC's convention: a key ending in <c>-bin</c> carries
/// bytes, any other key carries text. Keys are visible ASCII (<c>!</c> to <c>~</c>), compared without
/// regard to case; a key may appear more than once, and order is kept.
/// </summary>
/// <remarks>
/// What one call may carry is bounded by <see cref="RpcLimits.MaxMetadataEntries"/> and
/// <see cref="RpcLimits.MaxMetadataBytes"/> (checked when sent and when received). Not thread-safe:
/// one call's metadata is changed by one flow at a time (the caller, then its interceptors in order).
/// </remarks>
/// <example>
/// <code>
/// var headers = new RpcMetadata { { "tenant", "acme" }, { "token-bin", new byte[] { 1, 2, 3 } } };
/// string? tenant = headers.GetString("tenant");
/// </code>
/// </example>
public sealed class RpcMetadata : IReadOnlyList<RpcMetadataEntry>
{
    /// <summary>The suffix that marks a key whose value is bytes.</summary>
    public const string BinarySuffix = "-bin";

    private readonly List<RpcMetadataEntry> _entries;

    /// <summary>Creates empty metadata.</summary>
    public RpcMetadata() => _entries = new List<RpcMetadataEntry>();

    /// <summary>Creates a copy of <paramref name="other"/>.</summary>
    public RpcMetadata(RpcMetadata other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _entries = new List<RpcMetadataEntry>(other._entries);
    }

    /// <inheritdoc />
    public int Count => _entries.Count;

    /// <inheritdoc />
    public RpcMetadataEntry this[int index] => _entries[index];

    /// <summary>Whether <paramref name="key"/> names a binary entry (it ends in <c>-bin</c>).</summary>
    public static bool IsBinaryKey(string key) => key.EndsWith(BinarySuffix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Adds a text entry. Throws <see cref="ArgumentException"/> for an invalid key or a key ending in <c>-bin</c>.</summary>
    public void Add(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        ValidateKey(key, binary: false);
        _entries.Add(new RpcMetadataEntry(key, value, default));
    }

    /// <summary>Adds a binary entry (the bytes are not copied). Throws <see cref="ArgumentException"/> unless the key ends in <c>-bin</c>.</summary>
    public void Add(string key, ReadOnlyMemory<byte> value)
    {
        ValidateKey(key, binary: true);
        _entries.Add(new RpcMetadataEntry(key, null, value));
    }

    /// <summary>Adds a binary entry. Throws <see cref="ArgumentException"/> unless the key ends in <c>-bin</c>.</summary>
    public void Add(string key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Add(key, (ReadOnlyMemory<byte>)value);
    }

    /// <summary>Replaces every text entry named <paramref name="key"/> with one holding <paramref name="value"/>.</summary>
    public void Set(string key, string value)
    {
        Remove(key);
        Add(key, value);
    }

    /// <summary>Removes every entry named <paramref name="key"/>; returns whether there was one.</summary>
    public bool Remove(string key) =>
        _entries.RemoveAll(entry => string.Equals(entry.Key, key, StringComparison.OrdinalIgnoreCase)) > 0;

    /// <summary>Removes every entry.</summary>
    public void Clear() => _entries.Clear();

    /// <summary>The value of the first text entry named <paramref name="key"/>, or null.</summary>
    public string? GetString(string key)
    {
        foreach (var entry in _entries)
        {
            if (!entry.IsBinary && string.Equals(entry.Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return entry.Text;
            }
        }

        return null;
    }

    /// <summary>The value of the first binary entry named <paramref name="key"/>, or null.</summary>
    public ReadOnlyMemory<byte>? GetBytes(string key)
    {
        foreach (var entry in _entries)
        {
            if (entry.IsBinary && string.Equals(entry.Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return entry.Bytes;
            }
        }

        return null;
    }

    /// <summary>Whether an entry named <paramref name="key"/> exists.</summary>
    public bool Contains(string key) =>
        _entries.Exists(entry => string.Equals(entry.Key, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>The entries in the order they were added.</summary>
    public List<RpcMetadataEntry>.Enumerator GetEnumerator() => _entries.GetEnumerator();

    IEnumerator<RpcMetadataEntry> IEnumerable<RpcMetadataEntry>.GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _entries.GetEnumerator();

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var entry in _entries)
        {
            text.Append(text.Length == 0 ? "" : ", ").Append(entry);
        }

        return text.ToString();
    }

    /// <summary>
    /// Checks <paramref name="key"/> is a usable key for a value of the given kind; transports call it
    /// on received keys too, where a failure is the peer's protocol error.
    /// </summary>
    internal static string? KeyError(string? key, bool binary)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "A metadata key must not be empty.";
        }

        foreach (var c in key)
        {
            if (c is < '!' or > '~')
            {
                return $"The metadata key '{key}' holds a character outside visible ASCII ('!' to '~').";
            }
        }

        if (IsBinaryKey(key) != binary)
        {
            return binary
                ? $"The metadata key '{key}' carries bytes, so it must end in '{BinarySuffix}'."
                : $"The metadata key '{key}' ends in '{BinarySuffix}', so its value must be bytes, not text.";
        }

        return null;
    }

    private static void ValidateKey(string key, bool binary)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (KeyError(key, binary) is { } error)
        {
            throw new ArgumentException(error, nameof(key));
        }
    }
}

/// <summary>One metadata entry: a text value, or (for a key ending in <c>-bin</c>) a binary one.</summary>
/// <param name="Key">The key as it was added or received.</param>
/// <param name="Text">The text value; null for a binary entry.</param>
/// <param name="Bytes">The binary value; empty for a text entry.</param>
public readonly record struct RpcMetadataEntry(string Key, string? Text, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>Whether the value is bytes (<see cref="Bytes"/>) rather than text (<see cref="Text"/>).</summary>
    public bool IsBinary => Text is null;

    /// <inheritdoc />
    public override string ToString() => IsBinary ? $"{Key}=<{Bytes.Length} bytes>" : $"{Key}={Text}";
}
