using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Tasks.Sources;
using RpcGen.Benchmarks.Harness;
using RpcGen.Transport.SharedMemory;

namespace RpcGen.Benchmarks.SharedMemory;

/// <summary>
/// The floor of the 64-caller cell: what 64 concurrent async callers cost on this machine with no RPC
/// protocol at all. Each caller awaits a reusable <see cref="IValueTaskSource{TResult}"/> (one pooled
/// object per caller, as RpcGen's pending calls are), completed the way RpcGen completes calls: from
/// a thread that is not the caller's, with continuations run asynchronously on the thread pool. A
/// request is two ints (the caller's index and a value); a pump thread in this process takes every
/// request queued and hands them as one datagram through a <see cref="SharedMemoryEndpoint"/> (the
/// transport's own hand-off: adaptive spin, then futex) to a responder in a second process (this
/// program again, with <see cref="ServeOption"/>), which answers every value plus one in one datagram.
/// What is left out against the RPC cell: frames, headers, serialization, call ids and their tables,
/// cancellation and deadlines, dispatch and handler threads, the byte-stream link's ring of windows.
/// </summary>
internal static class ConcurrentEchoFloor
{
    /// <summary>Starts the responder (the argument is the memory file, as <c>/proc/PID/fd/N</c>); used by <see cref="ShmCommand"/>.</summary>
    public const string ServeOption = "--shm-floor-serve";

    private const string WindowBytesOption = "--floor-window-bytes";

    // Bytes of one request or answer: the caller's index and the value.
    private const int EntryBytes = 8;

    // How long either side waits for the other before the cell counts as broken.
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="callers"/> callers for <paramref name="seconds"/> against a responder process
    /// (under <c>taskset -c 1</c> when <paramref name="pin"/>); with <paramref name="perThread"/>, prints
    /// the CPU per call by thread as the RPC cells do.
    /// </summary>
    public static async Task<ConcurrentCell> RunAsync(int callers, int seconds, bool pin, SharedMemoryOptions options, bool perThread)
    {
        using var allocator = new PacketWindowAllocator(windowCount: 1);
        allocator.TryAllocate(out var window);
        using var responder = ShmCommand.StartSelf(pin, [ServeOption, $"/proc/{Environment.ProcessId}/fd/{allocator.FileDescriptor}", WindowBytesOption, window.Length.ToString(CultureInfo.InvariantCulture), "--spin-us", options.SpinBudget.TotalMicroseconds.ToString(CultureInfo.InvariantCulture)]);
        try
        {
            using var endpoint = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, window, options);
            endpoint.Connect(PeerTimeout);
            using var pump = new Pump(endpoint, callers);

            // Untimed first, so both processes' paths are compiled and tiered up.
            await CallAllAsync(pump, callers, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            var clientBefore = ContextSwitches.PerThread(Environment.ProcessId);
            var serverBefore = ContextSwitches.PerThread(responder.Id);
            var clock = Stopwatch.StartNew();
            var calls = await CallAllAsync(pump, callers, TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
            var elapsed = clock.Elapsed;
            var clientAfter = ContextSwitches.PerThread(Environment.ProcessId);
            var serverAfter = ContextSwitches.PerThread(responder.Id);
            pump.Stop();
            if (perThread)
            {
                Console.WriteLine($"  floor, CPU µs per call by thread, client: {ContextSwitches.CpuBreakdown(clientBefore, clientAfter, (int)calls)}");
                Console.WriteLine($"  floor, CPU µs per call by thread, server: {ContextSwitches.CpuBreakdown(serverBefore, serverAfter, (int)calls)}");
            }

            return new ConcurrentCell(calls / elapsed.TotalSeconds, ContextSwitches.CpuMicros(clientBefore, clientAfter) / calls, ContextSwitches.CpuMicros(serverBefore, serverAfter) / calls);
        }
        finally
        {
            if (!responder.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                responder.Kill();
            }
        }
    }

    /// <summary>The responder process: answers each datagram of requests with their values plus one, until an empty datagram or the timeout.</summary>
    public static int Serve(string[] args)
    {
        var path = BenchmarkCli.Value(args, ServeOption)!;
        var windowBytes = int.Parse(BenchmarkCli.Value(args, WindowBytesOption)!, CultureInfo.InvariantCulture);
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        var options = new SharedMemoryOptions();
        if (BenchmarkCli.Value(args, "--spin-us") is { } spin)
        {
            options.SpinBudget = TimeSpan.FromMicroseconds(double.Parse(spin, CultureInfo.InvariantCulture));
        }

        using var endpoint = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, new PacketWindowDescriptor((int)file.DangerousGetHandle(), 0, windowBytes), options);
        for (var length = endpoint.RecvFirst(PeerTimeout); length != 0; length = endpoint.SendRecv(length, PeerTimeout))
        {
            if (length % EntryBytes != 0 || length > endpoint.DataCapacity)
            {
                throw new InvalidOperationException($"A request datagram of {length} bytes.");
            }

            var data = endpoint.Data[..length];
            for (var offset = 0; offset < length; offset += EntryBytes)
            {
                var value = data.Slice(offset + 4, 4);
                BinaryPrimitives.WriteInt32LittleEndian(value, BinaryPrimitives.ReadInt32LittleEndian(value) + 1);
            }
        }

        return 0;
    }

    /// <summary>Each of <paramref name="callers"/> callers calls in a loop for <paramref name="duration"/>, checking every answer; returns the calls made.</summary>
    private static async Task<long> CallAllAsync(Pump pump, int callers, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource(duration);
        long total = 0;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(index => Task.Run(async () =>
        {
            var call = pump.Callers[index];
            long made = 0;
            while (!stop.IsCancellationRequested)
            {
                var value = (int)made;
                if (await call.CallAsync(value).ConfigureAwait(false) != value + 1)
                {
                    throw new InvalidOperationException("The floor's responder answered wrong.");
                }

                made++;
            }

            Interlocked.Add(ref total, made);
        }))).ConfigureAwait(false);
        return total;
    }

    /// <summary>One caller's reusable call: queued to the pump, completed by it, awaited by the caller.</summary>
    private sealed class EchoCall(Pump pump, int index) : IValueTaskSource<int>
    {
        // As RpcGen's pending calls: the continuation never runs on the completing (pump) thread.
        private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };

        public int Index { get; } = index;

        /// <summary>The request's value; written by the caller before it queues the call.</summary>
        public int Value { get; private set; }

        public ValueTask<int> CallAsync(int value)
        {
            _core.Reset();
            Value = value;
            pump.Queue(this);
            return new ValueTask<int>(this, _core.Version);
        }

        public void Complete(int answer) => _core.SetResult(answer);

        public int GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    /// <summary>
    /// The thread that sends every queued request in one datagram, waits for the answers (the
    /// endpoint's spin, then futex) and completes their calls; with nothing queued it yields its core
    /// for a while (the callers' continuations may need it), then sleeps until a caller queues.
    /// </summary>
    private sealed class Pump : IDisposable
    {
        // Yields before the pump sleeps: on the order of RpcGen's 20 µs spin budget.
        private const int YieldsBeforeSleep = 20;

        private readonly SharedMemoryEndpoint _endpoint;
        private readonly ConcurrentQueue<EchoCall> _queue = new();
        private readonly EchoCall[] _inDatagram;
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
        private readonly Thread _thread;

        // 1 while the pump sleeps (or is about to): a caller that queues then wakes it.
        private int _sleeping;
        private volatile bool _stopping;

        public Pump(SharedMemoryEndpoint endpoint, int callers)
        {
            _endpoint = endpoint;
            Callers = [.. Enumerable.Range(0, callers).Select(index => new EchoCall(this, index))];
            _inDatagram = new EchoCall[endpoint.DataCapacity / EntryBytes];
            _thread = new Thread(Run) { IsBackground = true, Name = "floor-pump" };
            _thread.Start();
        }

        public EchoCall[] Callers { get; }

        public void Queue(EchoCall call)
        {
            _queue.Enqueue(call);
            if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1)
            {
                _wake.Set();
            }
        }

        /// <summary>Sends the empty datagram that ends the responder, once the callers are done.</summary>
        public void Stop()
        {
            _stopping = true;
            _wake.Set();
            if (!_thread.Join(PeerTimeout))
            {
                throw new InvalidOperationException("The floor's pump did not stop.");
            }
        }

        public void Dispose() => _wake.Dispose();

        private void Run()
        {
            var idle = 0;
            while (!_stopping)
            {
                var data = _endpoint.Data;
                var count = 0;
                while (count < _inDatagram.Length && _queue.TryDequeue(out var call))
                {
                    BinaryPrimitives.WriteInt32LittleEndian(data[(count * EntryBytes)..], call.Index);
                    BinaryPrimitives.WriteInt32LittleEndian(data[((count * EntryBytes) + 4)..], call.Value);
                    _inDatagram[count++] = call;
                }

                if (count == 0)
                {
                    WaitForRequests(ref idle);
                    continue;
                }

                idle = 0;
                var length = _endpoint.SendRecv(count * EntryBytes, PeerTimeout);
                if (length != count * EntryBytes)
                {
                    throw new InvalidOperationException($"The floor's responder answered {length} bytes for {count} requests.");
                }

                data = _endpoint.Data;
                for (var i = 0; i < count; i++)
                {
                    var call = Callers[BinaryPrimitives.ReadInt32LittleEndian(data[(i * EntryBytes)..])];
                    _inDatagram[i] = null!;
                    call.Complete(BinaryPrimitives.ReadInt32LittleEndian(data[((i * EntryBytes) + 4)..]));
                }
            }

            _endpoint.SendLast(0);
        }

        private void WaitForRequests(ref int idle)
        {
            if (++idle <= YieldsBeforeSleep)
            {
                Thread.Yield();
                return;
            }

            // A full fence between announcing the sleep and looking at the queue (a caller does the
            // same between queueing and looking at the flag): with a plain store, the look could
            // pass the store, miss a caller's request and sleep the whole slice.
            Interlocked.Exchange(ref _sleeping, 1);
            if (_queue.IsEmpty && !_stopping)
            {
                _wake.Wait(TimeSpan.FromMilliseconds(100));
            }

            _wake.Reset();
            Volatile.Write(ref _sleeping, 0);
        }
    }
}
