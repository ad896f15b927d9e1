using System.Diagnostics;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// One side of a packet window with gVisor flipcall's semantics: exactly one side holds control at a
/// time; the holder may read and write the datagram, then hands control (and a datagram length) to
/// the other side and waits for it to come back.
/// <list type="bullet">
/// <item>The client starts with control and calls <see cref="Connect"/>; the server calls
/// <see cref="RecvFirst"/>. Then each calls <see cref="SendRecv"/>, or <see cref="SendLast"/> to hand
/// control over without waiting.</item>
/// <item><see cref="Shutdown"/> may be called at any time from any thread; it makes every waiting and
/// future call on both sides fail with <see cref="SharedMemoryShutdownException"/>. Every other method is
/// called by one thread at a time.</item>
/// <item>Waiting for control spins for <see cref="SharedMemoryOptions.SpinBudget"/>, then sleeps in a
/// non-private FUTEX_WAIT on the state word, in slices, so local shutdown and timeouts are noticed even
/// if the peer never wakes us.</item>
/// </list>
/// Invariants against a hostile peer (it can write the header and datagram at any moment): the state
/// word is read once per check and must be one of the three legal values, and control only passes from
/// this side by a compare-and-swap from our active state (a peer that takes control it was not given
/// is a violation); the datagram length is read once and must fit the window; this side never touches
/// memory outside the window. A violation shuts the window down and fails the call with
/// <see cref="RpcStatusCode.Disconnected"/> naming what the peer did.
/// </summary>
public sealed unsafe class SharedMemoryEndpoint : IDisposable
{
    // How long one FUTEX_WAIT sleeps before the waiter looks at local shutdown and its deadline again.
    // Shutdown wakes sleepers at once; this bounds the wait only when a hostile peer rewrites the
    // state word after our shutdown so the kernel's value check lets us sleep.
    private static readonly TimeSpan s_sleepSlice = TimeSpan.FromMilliseconds(100);

    // How long a spin busy-waits (one normalized pause, ~50 ns, between looks at the state word)
    // before each round yields the core instead: about what its former 64 rounds of
    // Thread.SpinWait(16) took on the 2-vCPU VM measured (0.66 µs each). Those rounds made a hand-off
    // wait on average a third of a microsecond before the spinner saw it.
    private static readonly long s_busyTicks = Stopwatch.Frequency * 40 / 1_000_000;

    // How often WakeLocalSleeper wakes a sleeper whose spinning has not been paying, to find out
    // whether it pays again.
    private const int WakeProbeInterval = 64;

    private readonly SharedMapping? _ownedMapping;
    private readonly byte* _window;
    private readonly int _activeState;
    private readonly int _inactiveState;
    private readonly long _spinTicks;
    private readonly TimeSpan _defaultTimeout;

    // Guards the shutdown write against the memory being unmapped (Dispose / Detach).
    private readonly object _lifetime = new();
    private bool _detached;

    // Set once by Shutdown; waiters look at it between spins and sleeps.
    private volatile bool _shutdown;

    // Calls touching the window right now (a driving thread, or one that has not yet noticed shutdown).
    private int _callsInProgress;

    // Whether this side holds control. Read and written only by the one thread driving the endpoint.
    private bool _haveControl;

    // The length of the peer's datagram, read once when control was taken (see TakeControl).
    private int _heldLength;

    // The spin budget in force, adapted by the waiting thread (one at a time): halved each time a
    // spin ends in a futex sleep (the peer was not answering that fast, or the machine is too busy
    // for spinning to pay), doubled up to the configured budget each time a spin catches the
    // hand-off. Never below a floor of a few busy rounds, so a peer that becomes fast again is seen.
    private long _adaptiveSpinTicks;
    private readonly long _minSpinTicks;

    // The doorbell WaitForHandOff sleeps on, and the peer's doorbell each hand-off rings (see the constructor).
    private readonly Doorbell? _sleepOn;
    private readonly Doorbell? _ringAfterHandOff;

    // Counts WakeLocalSleeper calls that found the budget at its floor; touched by the one sending thread.
    private int _wakeProbe;

    /// <summary>Maps <paramref name="window"/> and creates the <paramref name="side"/> endpoint on it. The window must start zero-filled (a fresh allocator window is).</summary>
    public SharedMemoryEndpoint(SharedMemoryEndpointSide side, PacketWindowDescriptor window, SharedMemoryOptions? options = null)
        : this(side, SharedMapping.Map(window), options)
    {
    }

    private SharedMemoryEndpoint(SharedMemoryEndpointSide side, SharedMapping mapping, SharedMemoryOptions? options)
        : this(side, mapping.Address, mapping.Length, options)
    {
        _ownedMapping = mapping;
    }

    /// <summary>
    /// An endpoint on memory mapped by its owner, which unmaps it only after <see cref="Detach"/>.
    /// A link's windows name their doorbells: <paramref name="sleepOn"/> is the one
    /// <see cref="WaitForHandOff"/> sleeps on (the receiving thread's, for receive windows), and
    /// <paramref name="ringAfterHandOff"/> the peer's, rung after every hand-off (for send windows and
    /// the outbound lane), since the peer's receiving thread sleeps there, not on this window's state.
    /// </summary>
    internal SharedMemoryEndpoint(SharedMemoryEndpointSide side, byte* window, int windowBytes, SharedMemoryOptions? options, Doorbell? sleepOn = null, Doorbell? ringAfterHandOff = null)
    {
        _sleepOn = sleepOn;
        _ringAfterHandOff = ringAfterHandOff;
        options ??= SharedMemoryOptions.Default;
        options.Validate();
        _window = window;
        DataCapacity = windowBytes - PacketHeader.Bytes;
        (_activeState, _inactiveState) = side == SharedMemoryEndpointSide.Client
            ? (PacketHeader.ClientActive, PacketHeader.ServerActive)
            : (PacketHeader.ServerActive, PacketHeader.ClientActive);
        _haveControl = side == SharedMemoryEndpointSide.Client;
        _spinTicks = (long)(options.SpinBudget.TotalSeconds * Stopwatch.Frequency);
        _minSpinTicks = Math.Min(_spinTicks, Stopwatch.Frequency / 1_000_000);
        _adaptiveSpinTicks = _spinTicks;
        _defaultTimeout = options.PeerResponseTimeout;
    }

    /// <summary>The most bytes one datagram carries.</summary>
    public int DataCapacity { get; }

    /// <summary>
    /// The datagram area. Only touch it while this side holds control (after <see cref="Connect"/>,
    /// <see cref="RecvFirst"/> or <see cref="SendRecv"/> returned), and treat what it holds as hostile:
    /// copy it out once, then parse the copy.
    /// </summary>
    public Span<byte> Data => new(_window + PacketHeader.Bytes, DataCapacity);

    /// <summary>Where <see cref="Data"/> starts, for a writer that hands the area out as memory (see <see cref="WindowMemory"/>).</summary>
    internal byte* DataAddress => _window + PacketHeader.Bytes;

    /// <summary>Whether <see cref="Shutdown"/> was called here.</summary>
    public bool IsShutdown => _shutdown;

    private int* State => (int*)(_window + PacketHeader.StateOffset);

    private int* Length => (int*)(_window + PacketHeader.LengthOffset);

    private int* Sleeper => (int*)(_window + PacketHeader.SleeperOffset);

    /// <summary>Client only, first call: waits until the server has called <see cref="RecvFirst"/>; fails after <paramref name="timeout"/> (default <see cref="SharedMemoryOptions.PeerResponseTimeout"/>).</summary>
    public void Connect(TimeSpan? timeout = null)
    {
        HandOff(0);
        AcquireControl(timeout ?? _defaultTimeout);
    }

    /// <summary>Server only, first call: answers the client's <see cref="Connect"/>, then waits for its first datagram and returns its length.</summary>
    public int RecvFirst(TimeSpan? timeout = null)
    {
        AcceptConnect(timeout ?? _defaultTimeout);
        return AcquireControl(timeout ?? _defaultTimeout);
    }

    /// <summary>Hands control and a datagram of <paramref name="length"/> bytes to the peer, then waits for control to come back and returns the length of the peer's datagram.</summary>
    public int SendRecv(int length, TimeSpan? timeout = null)
    {
        HandOff(length);
        return AcquireControl(timeout ?? _defaultTimeout);
    }

    /// <summary>Hands control and a datagram of <paramref name="length"/> bytes to the peer without waiting for it to come back.</summary>
    public void SendLast(int length) => HandOff(length);

    /// <summary>
    /// Makes every waiting and future call here and in the peer fail with
    /// <see cref="SharedMemoryShutdownException"/>. Does not wait for them. Safe to call concurrently
    /// with anything, and more than once.
    /// </summary>
    public void Shutdown()
    {
        lock (_lifetime)
        {
            if (_shutdown || _detached)
            {
                _shutdown = true;
                return;
            }

            _shutdown = true;
            Interlocked.Exchange(ref *State, PacketHeader.Shutdown);
            Futex.Wake(State, int.MaxValue);
        }
    }

    /// <summary>
    /// Shuts down, then unmaps the window if this endpoint mapped it. Calls still in progress on other
    /// threads are woken by the shutdown and given up to a second to leave; if one has not, the
    /// mapping is left in place (leaked) rather than pulled from under it.
    /// </summary>
    public void Dispose()
    {
        Detach();
        if (_ownedMapping is not null && SpinWait.SpinUntil(() => Volatile.Read(ref _callsInProgress) == 0, TimeSpan.FromSeconds(1)))
        {
            _ownedMapping.Dispose();
        }
    }

    /// <summary>Server side of the connection handshake: waits for the client's connect datagram and hands control back.</summary>
    internal void AcceptConnect(TimeSpan timeout)
    {
        AcquireControl(timeout);
        HandOff(0);
    }

    /// <summary>
    /// Returns once this side holds control (at once if it already does) and gives the length of the
    /// datagram the peer handed over, checked against the window.
    /// </summary>
    internal int AcquireControl(TimeSpan timeout)
    {
        EnterCall();
        try
        {
            return AcquireControlCore(timeout);
        }
        finally
        {
            LeaveCall();
        }
    }

    /// <summary>
    /// Takes control only if the peer has already handed it over, without spinning or sleeping, and
    /// gives the datagram's length (checked against the window); false while the peer holds control.
    /// </summary>
    internal bool TryAcquireControl(out int length) => TryAcquireControlCore(patience: null, out length);

    /// <summary>
    /// Takes control once the peer hands it over, waiting (spin, then futex) at most
    /// <paramref name="patience"/>, and gives the datagram's length (checked against the window);
    /// false, with nothing shut down, while the peer still holds control after that.
    /// </summary>
    internal bool TryAcquireControl(TimeSpan patience, out int length) => TryAcquireControlCore(patience, out length);

    private bool TryAcquireControlCore(TimeSpan? patience, out int length)
    {
        EnterCall();
        try
        {
            if (!_haveControl)
            {
                var handedOver = patience is { } wait ? WaitUntilActive(wait, giveUp: true) : CheckState();
                if (!handedOver)
                {
                    length = 0;
                    return false;
                }

                TakeControl();
            }

            length = _heldLength;
            return true;
        }
        finally
        {
            LeaveCall();
        }
    }

    private int AcquireControlCore(TimeSpan timeout)
    {
        if (!_haveControl)
        {
            _ = WaitUntilActive(timeout);
            TakeControl();
        }

        return _heldLength;
    }

    /// <summary>
    /// Takes control the peer handed over, with the length of its datagram, read here once: a
    /// caller that finds control already held gets that length again, never a second read of a
    /// word the peer may have rewritten since.
    /// </summary>
    private void TakeControl()
    {
        _heldLength = ReadLength();
        _haveControl = true;
    }

    private int ReadLength()
    {
        // Read once: the peer may rewrite it after we looked.
        var length = (uint)Volatile.Read(ref *Length);
        if (length > (uint)DataCapacity)
        {
            throw Violation($"datagram length {length} exceeds the window's {DataCapacity} bytes");
        }

        return (int)length;
    }

    /// <summary>Hands control with a datagram of <paramref name="length"/> bytes to the peer; this side must hold control.</summary>
    internal void HandOff(int length)
    {
        if ((uint)length > (uint)DataCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"A datagram holds at most {DataCapacity} bytes.");
        }

        EnterCall();
        try
        {
            HandOffCore(length);
        }
        finally
        {
            LeaveCall();
        }
    }

    private void HandOffCore(int length)
    {

        if (_shutdown)
        {
            throw new SharedMemoryShutdownException();
        }

        Volatile.Write(ref *Length, length);
        var prior = Interlocked.CompareExchange(ref *State, _inactiveState, _activeState);
        _haveControl = false;
        if (prior != _activeState)
        {
            throw prior == PacketHeader.Shutdown
                ? new SharedMemoryShutdownException()
                : Violation($"the state word was {prior} while this side held control");
        }

        // The compare-and-swap above is a full fence, so this read sees a sleeper that announced
        // itself before we changed the state (it rechecks the state after announcing: no lost wake).
        if (Volatile.Read(ref *Sleeper) != 0)
        {
            Volatile.Write(ref *Sleeper, 0);
            Futex.Wake(State, 1);
        }

        _ringAfterHandOff?.Ring();
    }

    /// <summary>
    /// Whether the peer has handed control over (a datagram waits here), without taking it and
    /// without throwing; a shut-down or garbled state reads as false (taking control reports it).
    /// </summary>
    internal bool IsHandedOver => Volatile.Read(ref *State) == _activeState;

    /// <summary>
    /// Wakes a local thread sleeping for control on this window so it spins again. The link calls it
    /// on the inbound window right after sending: the reply is then caught by spinning instead of
    /// costing a futex wake on the reply path. Only while spinning has lately paid (the adaptive
    /// budget is above its floor), and otherwise once every <see cref="WakeProbeInterval"/> calls:
    /// when replies take longer than the spin (a busy machine, thread-pool hops in the protocol), the
    /// woken thread would spin in vain and sleep again, two context switches and a system call per
    /// call for nothing (measured: fewer switches and a lower shm/UDS p50 without it); the probe lets
    /// a machine that became quiet raise the budget again. Called by one sending thread at a time.
    /// </summary>
    internal void WakeLocalSleeper()
    {
        if (_sleepOn is { HasLocalSleeper: true } doorbell && (_adaptiveSpinTicks > _minSpinTicks || ++_wakeProbe % WakeProbeInterval == 0))
        {
            doorbell.Ring();
        }
    }

    // Only an endpoint that maps its own window counts the calls touching it (Dispose waits for
    // them before unmapping). A link's endpoints are unmapped by the link only after every thread
    // that can touch them has stopped (its receive role and writer gate taken for good), so they
    // skip the two atomics per call: on the latency path every poll and hand-off made them.
    private void EnterCall()
    {
        if (_ownedMapping is not null)
        {
            Interlocked.Increment(ref _callsInProgress);
        }
    }

    private void LeaveCall()
    {
        if (_ownedMapping is not null)
        {
            Interlocked.Decrement(ref _callsInProgress);
        }
    }

    /// <summary>Stops all further writes to the window memory, so its owner may unmap it. Shuts down first if not yet.</summary>
    internal void Detach()
    {
        Shutdown();
        lock (_lifetime)
        {
            _detached = true;
        }
    }

    /// <summary>
    /// Waits (spin, then futex, without a deadline) until the peer has handed control over, without
    /// taking it: the caller takes it with <see cref="TryAcquireControl(out int)"/> once it holds the right to
    /// (the link's receive role). Returns false as soon as <paramref name="cursor"/> no longer points
    /// at <paramref name="expected"/> (another thread took this window and moved on) or a thread
    /// polls; whoever moves the cursor calls <see cref="WakeLocalWaiter"/> here, so a sleeping waiter
    /// notices promptly. <paramref name="spin"/> false sleeps at once (threads that poll do the spinning).
    /// </summary>
    internal bool WaitForHandOff(ReceiveCursor cursor, int expected, bool spin)
    {
        EnterCall();
        try
        {
            var doorbell = _sleepOn ?? throw new InvalidOperationException("Only a link's receive window, which has a doorbell to sleep on, is waited on with a cursor.");
            return _haveControl || WaitUntilActive(Timeout.InfiniteTimeSpan, cursor, expected, spin, doorbell);
        }
        finally
        {
            LeaveCall();
        }
    }

    /// <summary>Wakes a local thread sleeping in <see cref="WaitForHandOff"/> on this window (after the cursor it watches moved).</summary>
    internal void WakeLocalWaiter()
    {
        if (_sleepOn is { HasLocalSleeper: true } doorbell)
        {
            doorbell.Ring();
        }
    }

    private bool WaitUntilActive(TimeSpan timeout, ReceiveCursor? cursor = null, int expected = 0, bool spin = true, Doorbell? doorbell = null, bool giveUp = false)
    {
        if (CheckState())
        {
            // Already handed over (a writer taking back a window the reader acknowledged long ago):
            // no clock reads; the budget counts it as a caught spin, as the loop below would.
            _adaptiveSpinTicks = Math.Min(_spinTicks, Math.Max(_minSpinTicks, _adaptiveSpinTicks * 2));
            return true;
        }

        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            // Spin: re-read the state while the peer is likely still running. The first rounds
            // busy-wait (a hand-off to a running peer lands within a microsecond); after that each
            // round yields the core, so on a busy machine the threads the peer's answer depends on
            // (possibly on this very core) run instead of being starved by our spinning.
            var now = Stopwatch.GetTimestamp();
            var spinUntil = now + _adaptiveSpinTicks;
            var busyUntil = now + s_busyTicks;
            for (var spins = 0; ; spins++)
            {
                if (CheckState())
                {
                    _adaptiveSpinTicks = Math.Min(_spinTicks, Math.Max(_minSpinTicks, _adaptiveSpinTicks * 2));
                    return true;
                }

                if (cursor is not null && cursor.LeftWindow(expected))
                {
                    return false;
                }

                if (!spin || (spins == 0 && ThreadPool.PendingWorkItemCount > 0))
                {
                    // Work is queued for this process's thread pool: the core a spin would burn is
                    // needed to run it (with many calls in flight, the continuations and handlers
                    // whose frames we wait for). Sleep at once and leave the budget as it is: the
                    // spin was not tried, so it says nothing about whether spinning pays. Measured
                    // with 64 concurrent callers on a loaded 2-core VM: spinning on both sides gave
                    // 69-169 k calls/s, no spinning 254-305 k.
                    break;
                }

                now = Stopwatch.GetTimestamp();
                if (now >= spinUntil)
                {
                    _adaptiveSpinTicks = Math.Max(_minSpinTicks, _adaptiveSpinTicks / 2);
                    break;
                }

                if (now < busyUntil)
                {
                    Thread.SpinWait(1);
                }
                else
                {
                    Thread.Yield();
                }
            }

            // Sleep: announce ourselves, re-check (the waker reads the hint after changing the
            // state), then let the kernel compare the word and sleep while it is still inactive.
            var remaining = timeout == Timeout.InfiniteTimeSpan ? s_sleepSlice : timeout - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                if (giveUp)
                {
                    return false;
                }

                // Not proof of malice (the peer may be stuck), but this side cannot wait for ever.
                Shutdown();
                throw new RpcException(RpcStatusCode.Disconnected, $"The shared-memory peer did not hand control back within {timeout}; the window was shut down.");
            }

            if (cursor is not null && doorbell is not null)
            {
                // The receiving thread sleeps on its doorbell, which every hand-off to it (ring or
                // lane) and every local event it waits for rings: see Doorbell.
                var announced = doorbell.Announce();
                if (!CheckState() && !cursor.LeftWindow(expected))
                {
                    doorbell.Sleep(announced, s_sleepSlice);
                }

                doorbell.Woke();
                continue;
            }

            // The exchange is a full fence: a hand-off that changes the state and then reads the
            // hint either sees it (and wakes us) or we see the changed state here.
            Interlocked.Exchange(ref *Sleeper, 1);
            if (!CheckState())
            {
                Futex.Wait(State, _inactiveState, remaining < s_sleepSlice ? remaining : s_sleepSlice);
            }
        }
    }

    /// <summary>True when this side is active; false while the peer is; throws on shutdown or an illegal state.</summary>
    private bool CheckState()
    {
        var state = Volatile.Read(ref *State);
        if (state == _activeState)
        {
            if (_shutdown)
            {
                throw new SharedMemoryShutdownException();
            }

            return true;
        }

        if (state == _inactiveState)
        {
            return _shutdown ? throw new SharedMemoryShutdownException() : false;
        }

        throw state == PacketHeader.Shutdown
            ? new SharedMemoryShutdownException()
            : Violation($"illegal state word {state}");
    }

    private RpcException Violation(string what)
    {
        Shutdown();
        return new RpcException(RpcStatusCode.Disconnected, $"The shared-memory peer broke the window protocol: {what}; the window was shut down.");
    }
}
