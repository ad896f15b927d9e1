namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// Where a link's receive ring stands and who watches it, shared by the link's receiving thread and
/// the threads that poll (see <see cref="SharedMemoryLink.TryPollInput"/>), and whether the protocol's
/// frame sink asked for a pause. The receiving thread waits on the window at <see cref="Next"/> only
/// while nobody polls and the sink takes input, and stops waiting as soon as any of that changes
/// (<see cref="LeftWindow"/>).
/// </summary>
internal sealed class ReceiveCursor
{
    // The window the next datagram arrives in (ring order). Written only by the thread that holds the
    // link's receive role, with a full fence, then that thread wakes a waiter on the old window.
    private int _next;

    // Threads in a polling session now (SharedMemoryLink.BeginPolling .. EndPolling).
    private int _pollers;

    // How many more drains the receiving thread makes itself before it spins again: reset to
    // ForgetAfterDrains by each polling session. While threads poll, the receiving thread must not
    // spin too: on a shared core it takes the very CPU the poller (or the handler worker it just
    // woke) needs. After that many drains in a row with nobody polling, spinning pays again.
    private int _drainsBeforeSpinning;

    private const int ForgetAfterDrains = 64;

    // 1 while the protocol's frame sink paused: no window is taken until it has room again.
    private int _awaitingRoom;

    /// <summary>The window the next datagram arrives in.</summary>
    public int Next => Volatile.Read(ref _next);

    /// <summary>Whether a thread is polling now.</summary>
    public bool IsPolled => Volatile.Read(ref _pollers) > 0;

    /// <summary>Whether the frame sink paused: the receiving thread waits for room, not for the window.</summary>
    public bool AwaitsRoom => Volatile.Read(ref _awaitingRoom) != 0;

    // The link's inbound call-lane window once the receiving thread watches it (see WatchLane).
    private SharedMemoryEndpoint? _lane;

    /// <summary>
    /// From now on a datagram on <paramref name="lane"/> ends a wait too. Called by the receiving
    /// thread, which alone waits, before its first wait, and only when the protocol takes lane frames.
    /// </summary>
    public void WatchLane(SharedMemoryEndpoint lane) => _lane = lane;

    /// <summary>
    /// Whether a thread waiting on window <paramref name="expected"/> must stop: the cursor moved, a
    /// thread polls, the sink paused, or a datagram waits on the call lane (while nobody polls and the
    /// sink takes input: pollers take lane datagrams themselves).
    /// </summary>
    public bool LeftWindow(int expected) => Next != expected || IsPolled || AwaitsRoom || _lane is { IsHandedOver: true };

    /// <summary>The frame sink paused; a full fence, so a waiter that announced its sleep before is seen by the caller's wake.</summary>
    public void AwaitRoom() => Interlocked.Exchange(ref _awaitingRoom, 1);

    /// <summary>The frame sink has room again.</summary>
    public void RoomCame() => Volatile.Write(ref _awaitingRoom, 0);

    /// <summary>Moves to <paramref name="next"/>; a full fence, so a waiter that announced its sleep before is seen by the caller's wake check.</summary>
    public void MoveTo(int next) => Interlocked.Exchange(ref _next, next);

    /// <summary>Whether a polling session began within the receiving thread's last <see cref="ForgetAfterDrains"/> drains.</summary>
    public bool PolledLately => Volatile.Read(ref _drainsBeforeSpinning) > 0;

    /// <summary>The receiving thread took datagrams itself (no poller did); counts toward spinning again.</summary>
    public void DrainedWithoutPoller()
    {
        if (Volatile.Read(ref _drainsBeforeSpinning) > 0)
        {
            Interlocked.Decrement(ref _drainsBeforeSpinning);
        }
    }

    /// <summary>Counts a polling session in.</summary>
    public void PollerIn()
    {
        Volatile.Write(ref _drainsBeforeSpinning, ForgetAfterDrains);
        Interlocked.Increment(ref _pollers);
    }

    /// <summary>Counts a polling session out; true when it was the last.</summary>
    public bool PollerOut() => Interlocked.Decrement(ref _pollers) == 0;
}
