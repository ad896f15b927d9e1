using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// A byte-stream <see cref="RpcLink"/> over a ring of K packet windows per direction
/// (<see cref="SharedMemoryOptions.WindowsPerDirection"/>), so any protocol (message, Cap'n Proto)
/// runs over shared memory unchanged.
/// <list type="bullet">
/// <item>Windows 0..K-1 carry client→server bytes, K..2K-1 server→client. In each window the writer
/// takes flipcall's client role (initially active) and the reader the server role. A datagram is a
/// chunk of the stream (at most one window); the reader answers each with an empty datagram, the
/// acknowledgement that gives the window back; an empty datagram from the writer is the end of the
/// stream (a graceful close). Only window 0 of each direction runs flipcall's connect handshake; the
/// others start (zero-filled) with the writer in control.</item>
/// <item>Order without sequence numbers or locks: each direction has one writer and one reader, the
/// writer fills windows strictly in ring order and the reader drains them in the same order, so the
/// chunks arrive as they were written. The writer reuses a window only once its acknowledgement is
/// back, so up to K chunks are in flight; with all K taken it waits for the oldest (spin, then futex)
/// at most <see cref="SharedMemoryOptions.PeerResponseTimeout"/>. The protocol writes from one thread at
/// a time (its outbox drainer), which queues its writers in the order they wrote, so waiting for the
/// pool is fair.</item>
/// <item>Sending has no pipe and no sender of its own: <see cref="Output"/> is a <see cref="WindowWriter"/>
/// that hands the protocol the free send window's datagram area, so frames are serialized straight
/// into shared memory, and a flush hands the window over on the flushing thread. After each hand-off
/// the link wakes its own receiver if it sleeps and its spinning has lately paid, so it spins for the
/// reply (see <see cref="SharedMemoryEndpoint.WakeLocalSleeper"/>).</item>
/// <item>Receiving is done by whichever thread holds the receive role: copy each datagram out once
/// and acknowledge it, take every further window the peer has already filled (up to K) the same way,
/// and hand the copies to the protocol, which parses them, never the shared bytes. A protocol that
/// attaches a frame sink (<see cref="AttachFrameSink"/>, the message protocol) is called with each
/// datagram's bytes in a <see cref="ReceiveBuffer"/> and parses them there and then; otherwise the
/// batch is flushed into <see cref="Input"/> once. Until the protocol has chosen one of the two (read
/// <see cref="Input"/> or attached a sink) nothing is taken. While the sink pauses (the protocol must
/// wait for room) no window is taken, so the peer's writer waits for its windows to come back, and the
/// receiving thread blocks until the sink has room or the link stops, whichever comes first.
/// A dedicated thread holds the role (it blocks in the futex) unless a thread polls
/// (<see cref="BeginPolling"/>: a caller spinning for its answer, a handler worker for its next
/// call); while one does, the dedicated thread waits on a local event, without a sleeper hint, so the
/// peer's hand-offs wake nobody, and it does not spin (see <see cref="ReceiveCursor"/>).</item>
/// <item>The rendezvous socket carries nothing after the hello; its hang-up (the peer closed or died)
/// shuts both windows down, which wakes every waiter here, so pending reads and flushes end with
/// <see cref="RpcStatusCode.Disconnected"/> at once.</item>
/// </list>
/// Disposal order: shut every endpoint down and cancel the stop token (which wakes every waiter, the
/// receiving thread's wait for a paused sink's room included) and close the socket; wait for
/// the window handshake, the receiver thread and the socket watcher to stop, and park the writer (a
/// protocol thread mid-write leaves it once the shutdown wakes it); detach every endpoint (no shutdown
/// write after that); then unmap. Nothing touches the mapping after it is unmapped.
/// </summary>
internal sealed class SharedMemoryLink : RpcLink
{
    private readonly Socket _socket;
    private readonly SharedMapping _mapping;

    // Each window's length, header included (whole pages).
    private readonly int _windowBytes;
    private readonly SharedMemoryEndpoint[] _sendWindows;
    private readonly SharedMemoryEndpoint[] _receiveWindows;

    // The call lane (see TrySendOnLane): one window each way after the rings, its frames copied out
    // into _laneFrame; each side used by one thread at a time (_laneSending: 1 while held, and for
    // good once the link stopped, before it unmaps; the receiving side under _receiveRole).
    private readonly SharedMemoryEndpoint _laneSend;
    private readonly SharedMemoryEndpoint _laneReceive;
    private readonly byte[] _laneFrame;
    private int _laneSending;

    // The futex words the receiving threads sleep on (see Doorbell): ours, rung by the peer's
    // hand-offs and by local events, and the peer's, rung by our hand-offs.
    private readonly Doorbell _doorbell;
    private readonly Doorbell _peerDoorbell;

    // Threads touching the mapping outside the receive role and the writer gate (a poller
    // withdrawing or restoring a doorbell announcement, Stop ringing the doorbells); unmapping waits
    // for none to be left once the link stopped. See EnterMapping.
    private int _mappingUsers;
    private readonly Pipe _inbound;
    private readonly WindowWriter _writer;
    private readonly ILogger _logger;
    private readonly TimeSpan _peerTimeout;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TaskCompletionSource _receiverStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _writerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _handshake;
    private readonly Task _watching;
    private readonly Task _closed;
    private int _aborted;

    // The next receive window and the polling threads; see ReceiveCursor.
    private readonly ReceiveCursor _cursor;

    // 1 while one thread (the receiving thread or a poller) takes datagrams from the receive windows
    // or the lane and hands them to the protocol; held from construction until window 0's handshake
    // is answered, and for good once receiving stopped.
    private int _receiveRole = 1;

    // Wakes the receiving thread when the last poller stopped before its frame came, when a poller
    // found the end of the stream, and on shutdown.
    private readonly ManualResetEventSlim _pollersLeft = new(false, spinCount: 0);

    // How long the receiving thread stands back while threads poll before it looks again: the
    // longest a frame waits that arrives after a poller got its own and stopped, with no other
    // poller after it.
    private static readonly TimeSpan PollerSlice = TimeSpan.FromMilliseconds(1);

    // 1 when a poller gave up before its frame came: the receiving thread's next wait spins.
    private int _spinOnce;

    // How long unmapping waits for a protocol thread still writing into a send window when the link stopped.
    private static readonly TimeSpan WriterParkTimeout = TimeSpan.FromSeconds(1);

    // How received bytes reach the protocol (a Delivery): undecided until it reads Input or attaches
    // a frame sink. _deliveryChosen wakes the receiving thread once it is decided (or on shutdown).
    private int _delivery;
    private readonly ManualResetEventSlim _deliveryChosen = new(false, spinCount: 0);
    private IRpcFrameSink? _sink;

    // With a frame sink: the copies of received datagrams the sink has not consumed yet, and the
    // size the incomplete frame at their front declares (0 while not known).
    private readonly ReceiveBuffer _received = new();
    private long _nextFrameBytes;

    // How long the receiving thread waits at a time for the protocol to choose its delivery before
    // it looks again whether the link stopped; Stop sets _deliveryChosen too, so this only backs it up.
    private static readonly TimeSpan DeliverySlice = TimeSpan.FromSeconds(1);

    // Cancelled by Stop. The receiving thread waits on the paused sink's room with this token, so one
    // blocking wait ends on room or on a stop, whichever comes first, and nothing wakes it in between.
    private readonly CancellationTokenSource _stopping = new();

    // Set once the protocol stopped reading Input (or its sink stopped): receiving ends without an error.
    private volatile bool _inputClosed;

    // Set once the peer's end-of-stream datagram arrived: a shutdown after it is a normal close.
    private volatile bool _peerFinished;

    // Why the link failed, for the error every pending reader and writer sees; first cause wins.
    private string? _failure;

    private unsafe SharedMemoryLink(Socket socket, SharedMapping mapping, SharedMemoryOptions options, bool isServer, RpcLinkContext context, string localAddress, string remoteAddress)
    {
        _socket = socket;
        _mapping = mapping;
        _logger = context.Logger;
        _peerTimeout = options.PeerResponseTimeout;
        HandOffSpin = options.SpinBudget;
        _handshakeTimeout = context.Limits.HandshakeTimeout;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        PeerIdentity = PeerCredentials.TryRead(socket);
        var windowBytes = options.WindowBytes;
        _windowBytes = windowBytes;
        var count = options.WindowsPerDirection;
        var clientToServer = mapping.Address;
        var serverToClient = mapping.Address + ((long)count * windowBytes);
        var sending = isServer ? serverToClient : clientToServer;
        var receiving = isServer ? clientToServer : serverToClient;
        // The lanes follow both rings: client→server first, then server→client. Each lane window's
        // header also holds the doorbell of its direction's receiving thread.
        var clientToServerLane = mapping.Address + (2L * count * windowBytes);
        var serverToClientLane = clientToServerLane + windowBytes;
        var laneSending = isServer ? serverToClientLane : clientToServerLane;
        var laneReceiving = isServer ? clientToServerLane : serverToClientLane;
        _doorbell = new Doorbell((int*)(laneReceiving + PacketHeader.DoorbellOffset));
        _peerDoorbell = new Doorbell((int*)(laneSending + PacketHeader.DoorbellOffset));

        _sendWindows = new SharedMemoryEndpoint[count];
        _receiveWindows = new SharedMemoryEndpoint[count];
        for (var i = 0; i < count; i++)
        {
            _sendWindows[i] = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, sending + ((long)i * windowBytes), windowBytes, options, ringAfterHandOff: _peerDoorbell);
            _receiveWindows[i] = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, receiving + ((long)i * windowBytes), windowBytes, options, sleepOn: _doorbell);
        }

        _laneSend = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, laneSending, windowBytes, options, ringAfterHandOff: _peerDoorbell);
        _laneReceive = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, laneReceiving, windowBytes, options);
        _laneFrame = new byte[_laneReceive.DataCapacity];
        _cursor = new ReceiveCursor();

        var maxPending = context.Limits.MaxPendingBytes;
        // Its memory can outlive a segment: a received stream chunk keeps the bytes copied out of
        // the window instead of copying them again (RetainableBuffer, RawBytesFormatter).
        _inbound = new Pipe(new PipeOptions(pool: new RpcGen.Buffers.RetainableBufferPool(), pauseWriterThreshold: maxPending, resumeWriterThreshold: maxPending / 2, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        _writer = new WindowWriter(this, _sendWindows, _peerTimeout, _handshakeTimeout);

        var receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "rpcgen-shm-receive" };
        receiver.Start();
        try
        {
            // The window handshake blocks in the endpoint (spin, then futex), so it gets a thread of its own.
            _handshake = Task.Factory.StartNew(() => _sendWindows[0].Connect(_handshakeTimeout), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch
        {
            // No thread for the handshake (the process is out of threads, which a peer opening
            // connections can push it towards): the receiver already runs on the windows, so it is
            // stopped and waited for before EstablishAsync unmaps them.
            Stop();
            receiver.Join();
            throw;
        }
        _watching = WatchSocketAsync();
        _closed = CloseWhenStoppedAsync();
    }

    public override PipeReader Input
    {
        get
        {
            ChooseDelivery(Delivery.Pipe);
            return _inbound.Reader;
        }
    }

    /// <inheritdoc />
    internal override bool SupportsFrameSink => true;

    /// <inheritdoc />
    internal override void AttachFrameSink(IRpcFrameSink sink)
    {
        _sink = sink;
        if (!ChooseDelivery(Delivery.Sink))
        {
            _sink = null;
            throw new InvalidOperationException("The link's input is read through its pipe already.");
        }
    }

    /// <summary>Records how received bytes reach the protocol, the first time; whether <paramref name="delivery"/> is the one chosen.</summary>
    private bool ChooseDelivery(Delivery delivery)
    {
        var chosen = Interlocked.CompareExchange(ref _delivery, (int)delivery, (int)Delivery.Undecided);
        if (chosen == (int)Delivery.Undecided)
        {
            _deliveryChosen.Set();
            return true;
        }

        return chosen == (int)delivery;
    }

    private enum Delivery
    {
        Undecided,
        Pipe,
        Sink,
    }

    public override PipeWriter Output => _writer;

    public override string LocalAddress { get; }

    public override string RemoteAddress { get; }

    public override RpcGen.Security.RpcPeerIdentity? PeerIdentity { get; }

    /// <summary>The windows' spin budget (<see cref="SharedMemoryOptions.SpinBudget"/>): an answer lands within it when both sides run.</summary>
    public override TimeSpan HandOffSpin { get; }

    /// <summary>
    /// Builds the link over the 2K mapped windows (<see cref="SharedMemoryOptions.WindowBytes"/> and
    /// <see cref="SharedMemoryOptions.WindowsPerDirection"/> of <paramref name="options"/>) and completes
    /// the window handshake: our first sending window's <see cref="SharedMemoryEndpoint.Connect"/>
    /// returns once the peer's receiver answered, within <see cref="RpcLimits.HandshakeTimeout"/>.
    /// Takes ownership of the socket and mapping.
    /// </summary>
    public static async Task<SharedMemoryLink> EstablishAsync(Socket socket, SharedMapping mapping, SharedMemoryOptions options, bool isServer, RpcLinkContext context, string localAddress, string remoteAddress)
    {
        // The caller mapped exactly the 2K windows the options describe (validated from the hello on a client).
        SharedMemoryLink link;
        try
        {
            link = new SharedMemoryLink(socket, mapping, options, isServer, context, localAddress, remoteAddress);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            // Taken over all the same (callers release nothing once this was called): its threads,
            // if any started, were stopped and joined by the constructor.
            socket.Dispose();
            mapping.Dispose();
            throw new RpcException(RpcStatusCode.Disconnected, $"The shared-memory link with {remoteAddress} could not be set up: {ex.Message}", ex);
        }

        try
        {
            await link._handshake.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            link.Fail($"the window handshake failed: {ex.Message}");
            await link._closed.ConfigureAwait(false);
            throw new RpcException(RpcStatusCode.Disconnected, $"The shared-memory handshake with {remoteAddress} failed: {ex.Message}", ex);
        }

        SharedMemoryLog.Connected(context.Logger, localAddress, options.WindowsPerDirection, options.WindowBytes);
        return link;
    }

    /// <summary>Completes once everything has stopped and the windows are unmapped.</summary>
    internal Task Closed => _closed;

    public override void Abort() => Fail("the link was aborted");

    public override async ValueTask DisposeAsync()
    {
        // Hand over what is written, send the end of the stream and wait for its acknowledgement
        // (after the protocol's write in progress, if any); then everything stops.
        await _writer.CloseAsync().ConfigureAwait(false);
        Stop();
        await _closed.ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- receiving

    /// <inheritdoc />
    public override bool BeginPolling()
    {
        _cursor.PollerIn();

        // A receiving thread asleep on its doorbell stays asleep while this thread polls, and the
        // peer's hand-offs need not wake it: this thread takes what they bring.
        if (_doorbell.HasLocalSleeper && EnterMapping())
        {
            _doorbell.Withdraw();
            LeaveMapping();
        }

        return true;
    }

    /// <inheritdoc />
    public override void EndPolling(bool framesExpected)
    {
        if (!_cursor.PollerOut())
        {
            return;
        }

        if (framesExpected)
        {
            // The poller gave up before its frame came: the frame is due, so the receiving thread
            // spins for it once, whatever polling went before.
            Volatile.Write(ref _spinOnce, 1);
            _pollersLeft.Set();
        }

        if (_doorbell.HasLocalSleeper && EnterMapping())
        {
            // The receiving thread slept through the polling with its announcement withdrawn: put
            // it back (the peer's next hand-off wakes it), and wake it now when a frame is due or
            // already waits (handed over after the last poll).
            _doorbell.Rearm();
            if (framesExpected || _laneReceive.IsHandedOver || _receiveWindows[_cursor.Next].IsHandedOver)
            {
                _doorbell.RingAlways();
            }

            LeaveMapping();
        }
    }

    /// <summary>
    /// Whether a thread that holds no role may touch the mapping now (then it calls
    /// <see cref="LeaveMapping"/> after): not once the link stopped. Unmapping comes after the stop
    /// and waits for every thread that entered before it, and one that enters later sees the stop
    /// (both sides are full fences).
    /// </summary>
    private bool EnterMapping()
    {
        Interlocked.Increment(ref _mappingUsers);
        if (Volatile.Read(ref _aborted) != 0)
        {
            Interlocked.Decrement(ref _mappingUsers);
            return false;
        }

        return true;
    }

    private void LeaveMapping() => Interlocked.Decrement(ref _mappingUsers);

    /// <summary>
    /// Takes every datagram the peer has already handed over (up to one lap of the ring) on the
    /// calling thread, if no other thread is doing so, and hands them to the frame sink, or flushes
    /// them into <see cref="Input"/> (whose reader runs inline): either way the protocol parses here.
    /// Never waits: a paused sink takes nothing, a flush that cannot complete at once (the protocol is
    /// not reading) finishes on the thread pool, and the end of the stream is left for the receiving thread.
    /// </summary>
    public override bool TryPollInput()
    {
        if (Volatile.Read(ref _aborted) != 0 || Interlocked.CompareExchange(ref _receiveRole, 1, 0) != 0)
        {
            return false;
        }

        try
        {
            return Drain(onReceiverThread: false) == DrainResult.Moved;
        }
        catch (Exception ex)
        {
            // The receiving thread wakes from the shutdown Fail causes and completes Input with this reason.
            Fail(FailureReason(ex));
            return false;
        }
    }

    // ---------------------------------------------------------------- the call lane

    /// <inheritdoc />
    /// <remarks>
    /// The lane is one window each way beside the rings, for a lone caller's request and its answer:
    /// the frame is copied into the lane window and handed over at once, with no outbox or ring in
    /// between, and the peer copies it out and acknowledges it as it takes it. Nothing is written per
    /// call to any word the peer owns, so the round trip costs the two hand-offs and little more.
    /// The peer takes a lane datagram wherever it looks for input: its pollers
    /// (<see cref="TryPollLane"/>), its receiving thread, whose wait ends when the lane is handed
    /// over (<see cref="ReceiveCursor.LeftWindow"/>), and its drains of the ring, which take the lane
    /// first, so a lane frame is handled before any ring datagram sent after it. A receiving thread
    /// asleep is woken by the hand-off through its <see cref="Doorbell"/>, as a ring hand-off wakes it.
    /// False (use the ring) when the frame does not fit, the lane's previous datagram has not been
    /// taken yet, another thread sends on the lane, or the link stopped.
    /// </remarks>
    internal override bool TrySendOnLane(ReadOnlySpan<byte> frame)
    {
        if (frame.Length == 0 || frame.Length > _laneSend.DataCapacity || Interlocked.CompareExchange(ref _laneSending, 1, 0) != 0)
        {
            return false;
        }

        try
        {
            if (Volatile.Read(ref _aborted) != 0 || !_laneSend.TryAcquireControl(out _))
            {
                return false;
            }

            // The hand-off rings the peer's doorbell, which its receiving thread sleeps on.
            frame.CopyTo(_laneSend.Data);
            _laneSend.HandOff(frame.Length);
            return true;
        }
        catch (Exception ex) when (ex is SharedMemoryShutdownException or RpcException)
        {
            return LaneStepFailed(ex);
        }
        finally
        {
            Volatile.Write(ref _laneSending, 0);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Copies the lane's datagram out once, acknowledges it, and hands the copy to the frame sink
    /// (<see cref="IRpcFrameSink.ReceiveLane"/>), which checks it is one whole call frame and parses
    /// it there and then. A frame after which the sink must wait pauses the link as a ring delivery
    /// does, and nothing more is taken from the lane or the ring until there is room (the peer's
    /// next lone call then waits, as its ring datagrams do).
    /// </remarks>
    internal override bool TryPollLane()
    {
        // The lane is taken under the receive role, as the ring is: the sink hears from one thread
        // at a time (a lane frame is never parsed beside a ring drain on another thread).
        if (_sink is null || Interlocked.CompareExchange(ref _receiveRole, 1, 0) != 0)
        {
            return false;
        }

        try
        {
            return TakeLane();
        }
        finally
        {
            Volatile.Write(ref _receiveRole, 0);
        }
    }

    /// <summary>With the receive role held: takes the lane's datagram, if one was handed over and the sink has room, and delivers it.</summary>
    private bool TakeLane()
    {
        try
        {
            if (_sink is not { } sink || Volatile.Read(ref _aborted) != 0 || _inputClosed || _cursor.AwaitsRoom || !_laneReceive.TryAcquireControl(out var length))
            {
                return false;
            }

            _laneReceive.Data[..length].CopyTo(_laneFrame);
            _laneReceive.HandOff(0);
            OnDelivered(sink.ReceiveLane(new ReadOnlySequence<byte>(_laneFrame, 0, length)));
            return true;
        }
        catch (Exception ex) when (ex is SharedMemoryShutdownException or RpcException)
        {
            return LaneStepFailed(ex);
        }
    }

    /// <summary>A lane step that threw: after a shutdown it simply did not happen; a garbled lane state word (the peer broke the window protocol) fails the link.</summary>
    private bool LaneStepFailed(Exception ex)
    {
        if (ex is RpcException)
        {
            Fail(ex.Message);
        }

        return false;
    }

    /// <summary>
    /// Before a ring datagram is handled (with the receive role held, so no other thread is taking
    /// the lane): the lane frame the peer handed over before it (if any) is handled first, so a frame
    /// sent on the lane is never overtaken by one the peer sent on the ring after it (a call, then its
    /// cancellation). The peer's lane hand-off came before its ring hand-off, and both are locked
    /// writes, so having seen the ring's we see the lane's. False when a lane frame still waits
    /// because the sink paused (after the lane frame taken just before it): then the ring datagram
    /// must wait too, held and not taken, until there is room.
    /// </summary>
    private bool TakeLaneFirst()
    {
        if (_laneReceive.IsHandedOver)
        {
            _ = TakeLane();
        }

        return !(_cursor.AwaitsRoom && _laneReceive.IsHandedOver);
    }

    private void ReceiveLoop()
    {
        Exception? error = null;
        var holdingRole = true;
        try
        {
            // The receive role (held from construction) keeps pollers out until window 0's handshake
            // is done and the protocol chose how it takes its input.
            _receiveWindows[0].AcceptConnect(_handshakeTimeout);
            while (Volatile.Read(ref _delivery) == (int)Delivery.Undecided)
            {
                if (Volatile.Read(ref _aborted) != 0)
                {
                    throw new SharedMemoryShutdownException();
                }

                _deliveryChosen.Wait(DeliverySlice);
            }

            // Only a frame sink takes lane frames (a protocol reading Input never gets one): then a
            // lane datagram ends the wait for the ring. Otherwise one from a hostile peer is left
            // where it is, and must not keep ending that wait.
            if (_sink is not null)
            {
                _cursor.WatchLane(_laneReceive);
            }

            holdingRole = false;
            Volatile.Write(ref _receiveRole, 0);
            var roleWait = default(SpinWait);
            while (true)
            {
                if (Volatile.Read(ref _aborted) != 0)
                {
                    throw new SharedMemoryShutdownException();
                }

                if (_inputClosed)
                {
                    // The protocol stopped reading, on a poller's delivery: as a drain here would
                    // find. (Waiting for windows instead would end at once, and again, for a lane
                    // datagram that nobody takes any more.)
                    break;
                }

                if (_cursor.IsPolled)
                {
                    // A polling thread takes what arrives; stand back without a shared-memory
                    // sleeper hint, so the peer's hand-offs wake nobody here. A poller that stops
                    // before its frame came wakes us; one that got it leaves us to the slice.
                    _pollersLeft.Reset();
                    if (_cursor.IsPolled)
                    {
                        _pollersLeft.Wait(PollerSlice);
                    }

                    continue;
                }

                // Nobody polls: a lane frame is this thread's to take (while threads poll, they take
                // it, and this thread must not hold the lane's role against a poller spinning for it).
                if (_laneReceive.IsHandedOver && TryPollLane())
                {
                    continue;
                }

                if (_cursor.AwaitsRoom)
                {
                    // The sink paused: wait for its room, not for windows (a stop ends the wait too).
                    if (_sink!.MustWait)
                    {
                        WaitForRoomOrStop(_sink);
                        continue;
                    }
                }
                else
                {
                    var next = _cursor.Next;
                    var spin = !_cursor.PolledLately || Interlocked.Exchange(ref _spinOnce, 0) == 1;
                    if (!_receiveWindows[next].WaitForHandOff(_cursor, next, spin))
                    {
                        continue;
                    }
                }

                if (Interlocked.CompareExchange(ref _receiveRole, 1, 0) != 0)
                {
                    // A poller is draining (briefly, or until its pending flush completes).
                    roleWait.SpinOnce();
                    continue;
                }

                roleWait.Reset();
                var drained = Drain(onReceiverThread: true);
                if (drained == DrainResult.Ended)
                {
                    break;
                }

                if (drained == DrainResult.Moved)
                {
                    _cursor.DrainedWithoutPoller();
                }
            }
        }
        catch (Exception ex)
        {
            if (!(_peerFinished && ex is SharedMemoryShutdownException) && !_inputClosed)
            {
                Fail(FailureReason(ex));
                error = new RpcException(RpcStatusCode.Disconnected, $"The shared-memory link to {RemoteAddress} was lost: {_failure}", ex);
            }
        }

        // Take the role for good: no poller writes Input (or touches a window) after this.
        var lastWait = default(SpinWait);
        while (!holdingRole && Interlocked.CompareExchange(ref _receiveRole, 1, 0) != 0)
        {
            lastWait.SpinOnce();
        }

        if (_sink is { } sink)
        {
            // A sink that stopped itself is closing its connection already.
            if (!_inputClosed)
            {
                sink.Complete(_received.Length, error);
            }

            _received.Clear();
        }
        else
        {
            _inbound.Writer.Complete(error);
        }

        _receiverStopped.TrySetResult();
    }

    /// <summary>
    /// Blocks the receiving thread until the paused <paramref name="sink"/> may have room, or the link
    /// stops (then the loop ends at its next look); one wait, no wake-ups in between.
    /// </summary>
    private void WaitForRoomOrStop(IRpcFrameSink sink)
    {
        try
        {
            sink.WaitForRoomAsync().Wait(_stopping.Token);
        }
        catch (OperationCanceledException)
        {
            // The link stopped.
        }
    }

    /// <summary>
    /// With the receive role held (released here, or by the pending flush's continuation): copies
    /// each datagram the peer handed over out once, acknowledges it, moves the cursor on, and hands
    /// it to the frame sink (which may pause: then no further window is taken), or flushes the batch
    /// into <see cref="Input"/>.
    /// </summary>
    private DrainResult Drain(bool onReceiverThread)
    {
        var releaseRole = true;
        try
        {
            if (_inputClosed)
            {
                return DrainResult.Ended;
            }

            var sink = _sink;
            var delivered = RpcFrameSinkStatus.Continue;
            var moved = false;
            if (sink is not null && _cursor.AwaitsRoom)
            {
                if (sink.MustWait)
                {
                    return DrainResult.Nothing;
                }

                // Room again: first the frames left when the sink paused.
                _cursor.RoomCame();
                moved = true;
                delivered = Deliver(sink);
                if (delivered != RpcFrameSinkStatus.Continue)
                {
                    return EndSinkBatch(sink, delivered);
                }
            }

            var next = _cursor.Next;
            var window = _receiveWindows[next];
            if (!window.TryAcquireControl(out var length))
            {
                return moved ? EndSinkBatch(sink!, delivered) : DrainResult.Nothing;
            }

            if (sink is not null && !TakeLaneFirst())
            {
                // Held (its length already read) for the drain after the room comes.
                return moved ? EndSinkBatch(sink, delivered) : DrainResult.Nothing;
            }

            var writer = _inbound.Writer;

            // This datagram and every later one the peer has already handed over, in ring order (at
            // most one lap, so a fast writer cannot keep this thread from flushing).
            for (var taken = 1; ; taken++)
            {
                if (length == 0)
                {
                    if (!onReceiverThread)
                    {
                        // The end of the stream: this side keeps control of the window and the
                        // cursor stays on it, so the receiving thread finds it and ends Input.
                        _pollersLeft.Set();
                        break;
                    }

                    // Acknowledge it so the peer's close completes, and stop reading.
                    _peerFinished = true;
                    window.HandOff(0);
                    if (moved && sink is not null)
                    {
                        sink.EndBatch();
                    }
                    else if (moved)
                    {
                        writer.FlushAsync().AsTask().GetAwaiter().GetResult();
                    }

                    return DrainResult.Ended;
                }

                // Copy once out of shared memory; the protocol parses only this copy.
                if (sink is null)
                {
                    window.Data[..length].CopyTo(writer.GetSpan(length));
                    writer.Advance(length);
                }
                else
                {
                    window.Data[..length].CopyTo(_received.Reserve(length, _nextFrameBytes));
                    _received.Commit(length);
                }

                moved = true;
                window.HandOff(0);
                next = next + 1 == _receiveWindows.Length ? 0 : next + 1;
                _cursor.MoveTo(next);

                // The receiving thread may sleep on the window we just left.
                window.WakeLocalWaiter();
                if (sink is not null && (delivered = Deliver(sink)) != RpcFrameSinkStatus.Continue)
                {
                    break;
                }

                window = _receiveWindows[next];
                if (taken == _receiveWindows.Length || !window.TryAcquireControl(out length))
                {
                    break;
                }

                if (sink is not null && !TakeLaneFirst())
                {
                    break;
                }
            }

            if (sink is not null)
            {
                return moved ? EndSinkBatch(sink, delivered) : DrainResult.Nothing;
            }

            if (!moved)
            {
                return DrainResult.Nothing;
            }

            var flush = writer.FlushAsync();
            if (!flush.IsCompleted)
            {
                if (!onReceiverThread)
                {
                    releaseRole = false;
                    _ = ReleaseRoleAfterFlushAsync(flush);
                    return DrainResult.Moved;
                }

                return EndsInput(flush.AsTask().GetAwaiter().GetResult()) ? DrainResult.Ended : DrainResult.Moved;
            }

            return EndsInput(flush.Result) ? DrainResult.Ended : DrainResult.Moved;
        }
        finally
        {
            if (releaseRole)
            {
                Volatile.Write(ref _receiveRole, 0);
            }
        }
    }

    /// <summary>Hands what the buffer holds to the sink, keeps what it did not consume, and records a pause or a stop.</summary>
    private RpcFrameSinkStatus Deliver(IRpcFrameSink sink)
    {
        var status = sink.Receive(_received.Held, out var consumed, out _nextFrameBytes);
        _received.Consume(consumed);
        OnDelivered(status);
        return status;
    }

    /// <summary>Records a pause or a stop the sink asked for after a delivery, from the ring or the lane: until room comes, neither is taken.</summary>
    private void OnDelivered(RpcFrameSinkStatus status)
    {
        if (status == RpcFrameSinkStatus.Paused)
        {
            // A receiving thread asleep on the next window must wait for room instead.
            _cursor.AwaitRoom();
            _receiveWindows[_cursor.Next].WakeLocalWaiter();
        }
        else if (status == RpcFrameSinkStatus.Stopped)
        {
            _inputClosed = true;
            _pollersLeft.Set();
        }
    }

    /// <summary>The end of a drain that delivered to the sink: the protocol's batch ends (unless it stopped).</summary>
    private static DrainResult EndSinkBatch(IRpcFrameSink sink, RpcFrameSinkStatus delivered)
    {
        if (delivered == RpcFrameSinkStatus.Stopped)
        {
            return DrainResult.Ended;
        }

        sink.EndBatch();
        return DrainResult.Moved;
    }

    private async Task ReleaseRoleAfterFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            EndsInput(await flush.ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            Fail(ex.Message);
        }
        finally
        {
            Volatile.Write(ref _receiveRole, 0);
        }
    }

    /// <summary>Whether the protocol stopped reading <see cref="Input"/> (completed or cancelled it); then receiving stops.</summary>
    private bool EndsInput(FlushResult result)
    {
        if (!result.IsCompleted && !result.IsCanceled)
        {
            return false;
        }

        _inputClosed = true;
        _pollersLeft.Set();
        return true;
    }

    private enum DrainResult
    {
        Nothing,
        Moved,
        Ended,
    }

    // ---------------------------------------------------------------- sending

    /// <summary>After a hand-off: wake our own receiver if it sleeps and nobody polls lately, so it spins for the reply.</summary>
    internal void OnDatagramSent()
    {
        if (!_cursor.PolledLately)
        {
            _receiveWindows[_cursor.Next].WakeLocalSleeper();
        }
    }

    /// <summary>Whether the link has stopped (failed, aborted or closed): the windows are shut down.</summary>
    internal bool IsStopped => Volatile.Read(ref _aborted) != 0;

    /// <summary>The error a write after the link stopped, or after the output ended, fails with.</summary>
    internal RpcException ClosedError() =>
        new(RpcStatusCode.Disconnected, _failure is { } failure ? $"The shared-memory link to {RemoteAddress} was lost: {failure}" : $"The shared-memory link to {RemoteAddress} is closed.");

    /// <summary>Fails the link because sending failed; returns the error the protocol's write fails with.</summary>
    internal RpcException SendFailed(Exception ex)
    {
        Fail(FailureReason(ex));
        return ex as RpcException ?? new RpcException(RpcStatusCode.Disconnected, $"Sending to {RemoteAddress} failed: {_failure}", ex);
    }

    /// <summary>The output ended (the end of the stream went out, or could not): nothing more is sent.</summary>
    internal void OnOutputEnded() => _writerStopped.TrySetResult();

    // ---------------------------------------------------------------- liveness and shutdown

    private async Task WatchSocketAsync()
    {
        var probe = new byte[1];
        try
        {
            // Nothing is sent after the hello: any return (end of stream, a byte, an error) means the
            // peer is gone or misbehaving.
            await _socket.ReceiveAsync(probe, SocketFlags.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        if (Volatile.Read(ref _aborted) == 0)
        {
            SharedMemoryLog.PeerHungUp(_logger, LocalAddress);
            Fail("the peer hung up (closed or died)");
        }
    }

    /// <summary>
    /// Why a window operation failed with <paramref name="ex"/>. A shutdown is this side's own stop (a
    /// dispose or abort here shuts our endpoints down first), or else the peer's; a stop caused by a
    /// failure recorded its reason first.
    /// </summary>
    private string FailureReason(Exception ex) =>
        ex is not SharedMemoryShutdownException ? ex.Message
        : Volatile.Read(ref _aborted) != 0 ? "this side closed the link"
        : "the peer shut the windows down";

    /// <summary>Records <paramref name="reason"/> (the first wins) and stops everything; pending reads and flushes fail with <see cref="RpcStatusCode.Disconnected"/>.</summary>
    internal void Fail(string reason)
    {
        if (Interlocked.CompareExchange(ref _failure, reason, null) is null && !_peerFinished && Volatile.Read(ref _aborted) == 0)
        {
            SharedMemoryLog.Failed(_logger, LocalAddress, reason);
        }

        Stop();
    }

    private void Stop()
    {
        // Counted as a user of the mapping before the stop is seen: unmapping follows the stop, so
        // it waits for the doorbells below to be rung (a Stop that loses the race touches nothing).
        Interlocked.Increment(ref _mappingUsers);
        try
        {
            StopOnce();
        }
        finally
        {
            LeaveMapping();
        }
    }

    private void StopOnce()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        foreach (var window in _sendWindows)
        {
            window.Shutdown();
        }

        foreach (var window in _receiveWindows)
        {
            window.Shutdown();
        }

        _laneSend.Shutdown();
        _laneReceive.Shutdown();

        // Receiving threads sleep on the doorbells, not on the windows' state words.
        _doorbell.RingAlways();
        _peerDoorbell.RingAlways();
        _socket.Dispose();
        _pollersLeft.Set();
        _deliveryChosen.Set();
        _stopping.Cancel();
        _inbound.Writer.CancelPendingFlush();
        _writerStopped.TrySetResult();
    }

    private async Task CloseWhenStoppedAsync()
    {
        // Every thread that can touch the windows must be done before they are unmapped: the
        // handshake, the receiver, a protocol thread writing into a send window, and the watcher.
        await _handshake.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        await _receiverStopped.Task.ConfigureAwait(false);
        await _writerStopped.Task.ConfigureAwait(false);
        await _watching.ConfigureAwait(false);
        if (!await _writer.ParkAsync(WriterParkTimeout).ConfigureAwait(false))
        {
            // A protocol thread holds a span into a window and never advanced it: leave the memory
            // mapped (leaked) rather than pull it from under that thread.
            SharedMemoryLog.Failed(_logger, LocalAddress, "a protocol write into a send window did not finish; the windows stay mapped");
            return;
        }

        foreach (var window in _sendWindows)
        {
            window.Detach();
        }

        foreach (var window in _receiveWindows)
        {
            window.Detach();
        }

        // Lane senders and pollers hold these only for a copy and a hand-off, never across a wait.
        var laneWait = default(SpinWait);
        while (Interlocked.CompareExchange(ref _laneSending, 1, 0) != 0)
        {
            laneWait.SpinOnce();
        }

        _laneSend.Detach();
        _laneReceive.Detach();
        while (Volatile.Read(ref _mappingUsers) != 0)
        {
            laneWait.SpinOnce();
        }

        DiscardWindowPages();
        _mapping.Dispose();
    }

    /// <summary>
    /// Frees the pages of every window but its first, which holds the header: a peer that keeps its
    /// descriptor after the close would keep them alive, charged to us, outside
    /// MaxServerMappedBytes. The header pages stay, so an honest peer still reads Shutdown in every
    /// state word (a freed page reads as zeros: ClientActive), not a live window.
    /// </summary>
    private void DiscardWindowPages()
    {
        var page = Environment.SystemPageSize;
        if (_windowBytes <= page)
        {
            return;
        }

        for (long window = 0; window + _windowBytes <= _mapping.Length; window += _windowBytes)
        {
            if (!_mapping.DiscardPages(window + page, _windowBytes - page))
            {
                SharedMemoryLog.Failed(_logger, LocalAddress, $"the windows' pages could not be freed (madvise: errno {Marshal.GetLastPInvokeError()})");
                return;
            }
        }
    }
}
