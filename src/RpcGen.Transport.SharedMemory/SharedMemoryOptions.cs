namespace RpcGen.Transport.SharedMemory;

/// <summary>How a shared-memory endpoint waits and how large its windows are.</summary>
public sealed class SharedMemoryOptions
{
    /// <summary>The largest window a client accepts from a server (16 MiB): a bigger one is refused, so a hostile server cannot make a client map without limit.</summary>
    public const int MaxWindowBytes = 16 * 1024 * 1024;

    /// <summary>The most windows per direction a client accepts from a server (64): a bigger pool is refused.</summary>
    public const int MaxWindowsPerDirection = 64;

    /// <summary>
    /// The most bytes one connection's windows (both directions) may span (256 MiB): a client refuses
    /// a hello whose window count times window length goes beyond it, so a hostile server cannot make
    /// it map without limit, whatever each value is on its own.
    /// </summary>
    public const int MaxMappingBytes = 256 * 1024 * 1024;

    /// <summary>The default of <see cref="MaxServerMappedBytes"/>: 1 GiB.</summary>
    public const long DefaultMaxServerMappedBytes = 1024L * 1024 * 1024;

    /// <summary>A new instance with the defaults.</summary>
    public static SharedMemoryOptions Default => new();

    /// <summary>
    /// Each packet window's length, header included; whole pages, at most <see cref="MaxWindowBytes"/>.
    /// Data larger than a window is carried in several hand-offs. Default 68 KiB: a 64 KiB stream
    /// chunk and its frame header fit one window (see <see cref="PacketWindowAllocator.DefaultWindowBytes"/>). Set on the server;
    /// clients use what the server sends.
    /// </summary>
    public int WindowBytes { get; set; } = PacketWindowAllocator.DefaultWindowBytes;

    /// <summary>
    /// How many windows each direction of a connection has (the pool), at most
    /// <see cref="MaxWindowsPerDirection"/>, and with <see cref="WindowBytes"/> within
    /// <see cref="MaxMappingBytes"/> for both directions. Default 4. The sender fills them in ring
    /// order without waiting for the previous chunk's acknowledgement while one is free, and the
    /// receiver drains them in the same order, so up to this many chunks are in flight per direction;
    /// with every window taken the sender waits for the oldest. Set on the server; clients use what
    /// the server sends.
    /// </summary>
    public int WindowsPerDirection { get; set; } = 4;

    /// <summary>
    /// How long a side waiting for control spins (re-reading the state word) before it sleeps in
    /// FUTEX_WAIT. Default 20 µs. A spinning hand-off costs ~0.3 µs and a futex wake of a sleeping
    /// peer ~70 µs on an idle 2-core VM, so spinning pays whenever the peer answers within the
    /// budget; spinning longer burns a core that, on a busy machine, the peer may need to answer at
    /// all. The same budget bounds how long a lone caller spins (polling the windows) for its answer
    /// and how long a connection's handler worker spins for its next call (see
    /// <c>RpcGen.Links.RpcLink.HandOffSpin</c>). A wait does not spin at all while work is queued for
    /// the process's thread pool (many calls in flight): the core is then worth more running that
    /// work. Zero never spins. See the README's shared-memory section for the measurement.
    /// </summary>
    public TimeSpan SpinBudget { get; set; } = TimeSpan.FromMicroseconds(20);

    /// <summary>
    /// How long a side that has handed data over waits for the peer to take it before it treats the
    /// peer as stuck and disconnects. Default 30 s. <see cref="Timeout.InfiniteTimeSpan"/> waits for good
    /// (the rendezvous socket still detects a peer that dies). At most <see cref="int.MaxValue"/> milliseconds (about 24.8 days) otherwise.
    /// </summary>
    public TimeSpan PeerResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most shared memory one listener's clients may hold at once, in all: each client holds
    /// 2 × <see cref="WindowsPerDirection"/> × <see cref="WindowBytes"/> from the moment its
    /// rendezvous starts until its link is closed (however long it stays idle), so at most this many
    /// bytes divided by that, and at most <see cref="RpcLimits.MaxConnections"/>, clients are held;
    /// a client beyond either is hung up on at once with a log line. Default 1 GiB (with the default
    /// windows, 544 KiB each, the 1,024 connections of <see cref="RpcLimits.MaxConnections"/> fit in half of it).
    /// </summary>
    public long MaxServerMappedBytes { get; set; } = DefaultMaxServerMappedBytes;

    /// <summary>Bytes one connection's windows span, both directions.</summary>
    internal long ConnectionMappedBytes => MappedBytes(WindowsPerDirection, WindowBytes);

    /// <summary>
    /// The call lane's windows per direction (see <c>SharedMemoryLink</c>): one, after the 2K ring
    /// windows, so a lone caller's request and its answer each take one window of their own.
    /// </summary>
    internal const int LaneWindowsPerDirection = 1;

    /// <summary>What one connection maps: K ring windows and the lane's window in each direction.</summary>
    internal static long MappedBytes(long windowsPerDirection, long windowBytes) => 2 * (windowsPerDirection + LaneWindowsPerDirection) * windowBytes;

    internal void Validate()
    {
        if (WindowBytes < Environment.SystemPageSize || WindowBytes > MaxWindowBytes || WindowBytes % Environment.SystemPageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(WindowBytes), WindowBytes, $"A window is whole pages of {Environment.SystemPageSize} bytes, at most {MaxWindowBytes}.");
        }

        if (WindowsPerDirection < 1 || WindowsPerDirection > MaxWindowsPerDirection || !FitsMapping(WindowsPerDirection, WindowBytes))
        {
            throw new ArgumentOutOfRangeException(nameof(WindowsPerDirection), WindowsPerDirection, $"Between 1 and {MaxWindowsPerDirection} windows per direction, spanning at most {MaxMappingBytes} bytes for both directions.");
        }

        if (MaxServerMappedBytes < ConnectionMappedBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxServerMappedBytes), MaxServerMappedBytes, $"At least one connection's windows ({ConnectionMappedBytes} bytes).");
        }

        if (SpinBudget < TimeSpan.Zero || SpinBudget > TimeSpan.FromMilliseconds(10))
        {
            throw new ArgumentOutOfRangeException(nameof(SpinBudget), SpinBudget, "The spin budget is between 0 and 10 ms.");
        }

        // Waits take it in milliseconds as an int (a semaphore's, a futex slice's), so ~24.8 days at most.
        if ((PeerResponseTimeout <= TimeSpan.Zero || PeerResponseTimeout.TotalMilliseconds > int.MaxValue) && PeerResponseTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(PeerResponseTimeout), PeerResponseTimeout, "The peer response timeout is positive and at most int.MaxValue milliseconds (about 24.8 days), or infinite.");
        }
    }

    /// <summary>Whether <paramref name="windowsPerDirection"/> windows of <paramref name="windowBytes"/> each way fit <see cref="MaxMappingBytes"/> (computed without overflow).</summary>
    internal static bool FitsMapping(long windowsPerDirection, long windowBytes) => MappedBytes(windowsPerDirection, windowBytes) <= MaxMappingBytes;
}
