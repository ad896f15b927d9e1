namespace RpcGen.Transport.SharedMemory;

/// <summary>How a shared-memory endpoint waits and how large its windows are.</summary>
public sealed class SharedMemoryOptions
{
    /// <summary>The largest window a client accepts from a server (16 MiB): a bigger one is refused, so a hostile server cannot make a client map without limit.</summary>
    public const int MaxWindowBytes = 16 * 1024 * 1024;

    /// <summary>A new instance with the defaults.</summary>
    public static SharedMemoryOptions Default => new();

    /// <summary>
    /// Each packet window's length, header included; whole pages, at most <see cref="MaxWindowBytes"/>.
    /// Data larger than a window is carried in several hand-offs. Default 64 KiB. Set on the server;
    /// clients use what the server sends.
    /// </summary>
    public int WindowBytes { get; set; } = PacketWindowAllocator.DefaultWindowBytes;

    /// <summary>
    /// How long a side waiting for control spins (re-reading the state word) before it sleeps in
    /// FUTEX_WAIT. Default 20 µs. A spinning hand-off costs ~0.3 µs and a futex wake of a sleeping
    /// peer ~70 µs on an idle 2-core VM, so spinning pays whenever the peer answers within the
    /// budget; spinning longer burns a core that, on a busy machine, the peer may need to answer at
    /// all. Zero never spins. See the README's shared-memory section for the measurement.
    /// </summary>
    public TimeSpan SpinBudget { get; set; } = TimeSpan.FromMicroseconds(20);

    /// <summary>
    /// How long a side that has handed data over waits for the peer to take it before it treats the
    /// peer as stuck and disconnects. Default 30 s. <see cref="Timeout.InfiniteTimeSpan"/> waits for good
    /// (the rendezvous socket still detects a peer that dies).
    /// </summary>
    public TimeSpan PeerResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (WindowBytes < Environment.SystemPageSize || WindowBytes > MaxWindowBytes || WindowBytes % Environment.SystemPageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(WindowBytes), WindowBytes, $"A window is whole pages of {Environment.SystemPageSize} bytes, at most {MaxWindowBytes}.");
        }

        if (SpinBudget < TimeSpan.Zero || SpinBudget > TimeSpan.FromMilliseconds(10))
        {
            throw new ArgumentOutOfRangeException(nameof(SpinBudget), SpinBudget, "The spin budget is between 0 and 10 ms.");
        }

        if (PeerResponseTimeout <= TimeSpan.Zero && PeerResponseTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(PeerResponseTimeout), PeerResponseTimeout, "The peer response timeout is positive or infinite.");
        }
    }
}
