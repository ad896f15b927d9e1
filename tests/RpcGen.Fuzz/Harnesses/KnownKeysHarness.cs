using RpcGen.Security;

namespace RpcGen.Fuzz.Harnesses;

/// <summary>
/// The known-keys file (<see cref="RpcKnownKeys"/>): the input is the file, read through the public
/// entry point (<see cref="RpcKnownKeys.Open"/>), then a peer is checked against it. The file is
/// read-only (lockdown), so checks never write. The parser documents no rejection: a line it does not
/// understand is skipped, so any exception is a finding.
/// </summary>
internal sealed class KnownKeysHarness : FuzzHarness
{
    // Created on first use: nothing from an instrumented assembly may run before the libFuzzer loop starts.
    private RpcPeerIdentity? _peer;

    // On a memory file system where there is one: the harness measures the parser, not the disk
    // (on this machine's /tmp the file writes cost six times the parse).
    private static readonly string s_directory = Path.Combine(
        Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"rpcgen-fuzz-known-keys-{Environment.ProcessId}");

    private readonly string _path = Path.Combine(s_directory, "known_keys");

    public KnownKeysHarness() => AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteDirectory();

    public override string Name => "known-keys";

    protected override void Parse(ReadOnlySpan<byte> input)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        if (File.Exists(_path))
        {
            SetMode(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.WriteAllBytes(_path, input.ToArray());
        SetMode(UnixFileMode.UserRead);
        var keys = RpcKnownKeys.Open(_path);
        FuzzCheck.That(keys.IsLockdown, "a read-only file opens in lockdown");
        foreach (var key in keys.Keys)
        {
            FuzzCheck.That(key.Fingerprint.StartsWith("sha256:", StringComparison.Ordinal), "every listed key is a sha256 fingerprint");
        }

        _ = keys.Check(_peer ??= new() { Fingerprint = "sha256:" + new string('a', 64), Name = "peer.example" });
    }

    private static void DeleteDirectory()
    {
        try
        {
            Directory.Delete(s_directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Never created, or another harness instance removed it first.
        }
    }

    // Read-only by the permission bits is how the file asks for lockdown (RpcKnownKeys.IsReadOnly).
    private void SetMode(UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            File.SetAttributes(_path, mode.HasFlag(UnixFileMode.UserWrite) ? FileAttributes.Normal : FileAttributes.ReadOnly);
        }
        else
        {
            File.SetUnixFileMode(_path, mode);
        }
    }

    public override async Task<IReadOnlyList<FuzzSeed>> CaptureSeedsAsync()
    {
        // The file the real writer (RpcKnownKeys.Trust, which `rpcgen keys trust` calls) produces.
        var directory = Directory.CreateTempSubdirectory("rpcgen-fuzz-seed-");
        try
        {
            var path = Path.Combine(directory.FullName, "known_keys");
            RpcKnownKeys.Trust(path, "sha256:" + new string('0', 64), "alice.example", "alice@example.test");
            RpcKnownKeys.Trust(path, "sha256:" + string.Concat(Enumerable.Repeat("9f", 32)), "bob\tthe builder");
            RpcKnownKeys.Trust(path, "SHA256:" + new string('A', 64));
            var bytes = await File.ReadAllBytesAsync(path);
            return [new FuzzSeed("trusted-three", bytes), new FuzzSeed("comment-and-blank", [.. "# known keys\n\n"u8, .. bytes])];
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
