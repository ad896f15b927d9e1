using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using RpcGen.Transport.SharedMemory;

namespace RpcGen.Benchmarks.SharedMemory;

/// <summary>
/// The floor: a hand-written ping-pong on one word of a shared memory file, two threads, each
/// spinning until the word says it is its turn, then flipping it. No validation, no futex, no
/// framing: the cheapest a hand-off through shared memory can be on this machine. A waiting side
/// looks at the word after every single pause (about 50 ns here; a coarser poll would make the floor
/// its own poll period, 0.6–0.7 µs with 16 pauses between looks against 0.4–0.5 µs with one), and
/// after ~50 µs of that it yields its core between looks, so on a busy machine the two threads cannot
/// starve each other for long (the same concession the transport makes).
/// </summary>
internal static unsafe class RawSpinPingPong
{
    /// <summary>Runs <paramref name="roundTrips"/> round trips and returns each one's duration in microseconds; the responder runs on <paramref name="responderCpu"/> if given.</summary>
    public static double[] Run(int roundTrips, int? responderCpu = null)
    {
        using var allocator = new PacketWindowAllocator(windowCount: 1);
        using var file = MemoryMappedFile.CreateFromFile($"/proc/self/fd/{allocator.FileDescriptor}", FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        using var view = file.CreateViewAccessor(0, allocator.WindowBytes);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            var word = (int*)pointer;
            var micros = new double[roundTrips];
            var responder = new Thread(() =>
            {
                if (responderCpu is { } cpu)
                {
                    CpuPinning.PinCurrentThread(cpu);
                }

                for (var i = 0; i < roundTrips; i++)
                {
                    WaitFor(word, 1);
                    Volatile.Write(ref *word, 0);
                }
            }) { IsBackground = true };
            responder.Start();
            for (var i = 0; i < roundTrips; i++)
            {
                var started = Stopwatch.GetTimestamp();
                Volatile.Write(ref *word, 1);
                WaitFor(word, 0);
                micros[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }

            responder.Join();
            return micros;
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    // One pause per look for about 50 µs (a pause is ~50 ns on this VM), then yield between looks.
    private const int BusyLooks = 1024;

    private static void WaitFor(int* word, int value)
    {
        for (var spins = 0; Volatile.Read(ref *word) != value; spins++)
        {
            if (spins < BusyLooks)
            {
                Thread.SpinWait(1);
            }
            else
            {
                Thread.Yield();
            }
        }
    }
}
