using System.Globalization;
using System.Text;

namespace RpcGen.Security;

/// <summary>What a known-keys file says about a peer.</summary>
public enum RpcKnownKeyDecision
{
    /// <summary>The peer's key is listed: admitted.</summary>
    Known,

    /// <summary>The peer was unseen and the file is writable (trust on first use): recorded and admitted.</summary>
    Recorded,

    /// <summary>The peer is unseen and the file is read-only (lockdown): refused.</summary>
    Unknown,

    /// <summary>The peer's name is listed with a different key (like ssh's changed host key): refused in both modes.</summary>
    KeyChanged,
}

/// <summary>One line of a known-keys file.</summary>
/// <param name="Fingerprint">The SPKI SHA-256 fingerprint (<c>sha256:</c> and lowercase hex).</param>
/// <param name="Name">The certificate's common name.</param>
/// <param name="Email">The certificate's email, or null.</param>
/// <param name="FirstSeenUtc">When the key was first admitted.</param>
public sealed record RpcKnownKey(string Fingerprint, string Name, string? Email, DateTimeOffset FirstSeenUtc);

/// <summary>
/// A known-keys file (<c>known_client_keys</c> on a server, <c>known_server_keys</c> on a client), as in
/// rpc25519 and ssh. One line per peer: fingerprint, name, email (<c>-</c> when none) and first-seen
/// time, separated by tabs; <c>#</c> starts a comment. A <b>writable</b> file means trust on first use
/// (a CA-signed peer not yet listed is appended and admitted); a <b>read-only</b> file (no write
/// permission bit set, or the read-only attribute on Windows) means lockdown: only listed peers get in.
/// Either way, a listed name presenting a different key is refused.
/// </summary>
/// <remarks>
/// Appends are serialized in this process by a lock and across processes by opening the file
/// exclusively (an advisory <c>flock</c> on Unix); each record is one write of one whole line, and the
/// file is re-read under the lock first, so two first contacts with the same peer record it once.
/// </remarks>
public sealed class RpcKnownKeys
{
    private readonly object _gate = new();
    private readonly string _path;
    private Dictionary<string, RpcKnownKey> _byFingerprint = new(StringComparer.Ordinal);
    private Dictionary<string, RpcKnownKey> _byName = new(StringComparer.Ordinal);

    private RpcKnownKeys(string path, bool lockdown)
    {
        _path = path;
        IsLockdown = lockdown;
    }

    /// <summary>The file's path.</summary>
    public string Path => _path;

    /// <summary>Whether the file is read-only, so only listed peers get in.</summary>
    public bool IsLockdown { get; }

    /// <summary>The keys listed now.</summary>
    public IReadOnlyCollection<RpcKnownKey> Keys
    {
        get
        {
            lock (_gate)
            {
                return _byFingerprint.Values.ToArray();
            }
        }
    }

    /// <summary>Opens (creating it, writable, when missing) the known-keys file at <paramref name="path"/>.</summary>
    public static RpcKnownKeys Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            using (new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite))
            {
            }
        }

        var keys = new RpcKnownKeys(path, IsReadOnly(path));
        lock (keys._gate)
        {
            keys.Reload();
        }

        return keys;
    }

    /// <summary>
    /// Decides whether <paramref name="peer"/> (whose certificate already passed the CA check) may
    /// connect, recording it when the file is writable and the peer unseen.
    /// </summary>
    public RpcKnownKeyDecision Check(RpcPeerIdentity peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var fingerprint = peer.Fingerprint ?? throw new ArgumentException("The peer has no certificate fingerprint.", nameof(peer));
        var name = peer.Name ?? fingerprint;
        lock (_gate)
        {
            if (Decide(fingerprint, name) is { } known)
            {
                return known;
            }

            if (IsLockdown)
            {
                return RpcKnownKeyDecision.Unknown;
            }

            return WithFileLock(() =>
            {
                // Another process may have recorded this peer (or this name) since we last read.
                Reload();
                if (Decide(fingerprint, name) is { } decided)
                {
                    return decided;
                }

                var entry = new RpcKnownKey(fingerprint, name, peer.Email, DateTimeOffset.UtcNow);
                Append(entry);
                Add(entry);
                return RpcKnownKeyDecision.Recorded;
            });
        }
    }

    /// <summary>Appends a key to the file at <paramref name="path"/> (creating it), unless that fingerprint is already listed. Returns false when it was.</summary>
    public static bool Trust(string path, string fingerprint, string? name = null, string? email = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fingerprint);
        fingerprint = fingerprint.Trim().ToLowerInvariant();
        if (!fingerprint.StartsWith("sha256:", StringComparison.Ordinal) || fingerprint.Length != 7 + 64 || fingerprint.AsSpan(7).ContainsAnyExcept("0123456789abcdef"))
        {
            throw new FormatException($"'{fingerprint}' is not a fingerprint: expected sha256: and 64 hex digits.");
        }

        var keys = Open(path);
        lock (keys._gate)
        {
            return keys.WithFileLock(() =>
            {
                keys.Reload();
                if (keys._byFingerprint.ContainsKey(fingerprint))
                {
                    return false;
                }

                var entry = new RpcKnownKey(fingerprint, string.IsNullOrWhiteSpace(name) ? fingerprint : name, email, DateTimeOffset.UtcNow);
                keys.Append(entry);
                keys.Add(entry);
                return true;
            });
        }
    }

    internal static bool IsReadOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return File.GetAttributes(path).HasFlag(FileAttributes.ReadOnly);
        }

        // By the permission bits, not by trying to write: root can write anything.
        const UnixFileMode anyWrite = UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        return (File.GetUnixFileMode(path) & anyWrite) == 0;
    }

    private RpcKnownKeyDecision? Decide(string fingerprint, string name)
    {
        if (_byFingerprint.TryGetValue(fingerprint, out var byKey))
        {
            // The same key under another name is still the same peer; the name check guards keys, not names.
            return RpcKnownKeyDecision.Known;
        }

        return _byName.ContainsKey(name) ? RpcKnownKeyDecision.KeyChanged : null;
    }

    private T WithFileLock<T>(Func<T> action)
    {
        // The exclusive open is the cross-process lock (flock on Unix); another process holds it only
        // for one re-read and one append, so a short bounded wait suffices.
        for (var attempt = 0; ; attempt++)
        {
            FileStream lockHandle;
            try
            {
                lockHandle = new FileStream(_path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 500)
            {
                Thread.Sleep(2);
                continue;
            }

            using (lockHandle)
            {
                return action();
            }
        }
    }

    private void Reload()
    {
        var byFingerprint = new Dictionary<string, RpcKnownKey>(StringComparer.Ordinal);
        var byName = new Dictionary<string, RpcKnownKey>(StringComparer.Ordinal);
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (Parse(line) is { } entry)
            {
                byFingerprint.TryAdd(entry.Fingerprint, entry);
                byName.TryAdd(entry.Name, entry);
            }
        }

        _byFingerprint = byFingerprint;
        _byName = byName;
    }

    private void Add(RpcKnownKey entry)
    {
        _byFingerprint.TryAdd(entry.Fingerprint, entry);
        _byName.TryAdd(entry.Name, entry);
    }

    private void Append(RpcKnownKey entry)
    {
        var line = string.Join('\t', entry.Fingerprint, Clean(entry.Name), entry.Email is null ? "-" : Clean(entry.Email), entry.FirstSeenUtc.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)) + "\n";
        using var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        stream.Write(Encoding.UTF8.GetBytes(line));
        stream.Flush(flushToDisk: true);
    }

    private static RpcKnownKey? Parse(string line)
    {
        var text = line.Trim();
        if (text.Length == 0 || text[0] == '#')
        {
            return null;
        }

        var parts = text.Split('\t');
        var fingerprint = parts[0].Trim().ToLowerInvariant();
        if (!fingerprint.StartsWith("sha256:", StringComparison.Ordinal))
        {
            return null;
        }

        var name = parts.Length > 1 && parts[1].Length > 0 ? parts[1] : fingerprint;
        var email = parts.Length > 2 && parts[2] != "-" && parts[2].Length > 0 ? parts[2] : null;
        var seen = parts.Length > 3 && DateTimeOffset.TryParse(parts[3], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) ? when : DateTimeOffset.MinValue;
        return new RpcKnownKey(fingerprint, name, email, seen);
    }

    private static string Clean(string value) => value.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
}
