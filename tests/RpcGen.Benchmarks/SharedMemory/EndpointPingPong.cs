using System.Diagnostics;
using RpcGen.Transport.SharedMemory;

namespace RpcGen.Benchmarks.SharedMemory;

/// <summary>
/// The transport's mechanism without the RPC protocol: two <see cref="SharedMemoryEndpoint"/>s on one
/// window, two threads, SendRecv of an 8-byte datagram each way (state checks, length validation,
/// adaptive spin, futex fall-back).
/// </summary>
internal static class EndpointPingPong
{
    public static double[] Run(int roundTrips, SharedMemoryOptions options, int? responderCpu = null)
    {
        using var allocator = new PacketWindowAllocator(windowCount: 1);
        allocator.TryAllocate(out var window);
        using var client = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, window, options);
        using var server = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, window, options);
        var responder = new Thread(() =>
        {
            if (responderCpu is { } cpu)
            {
                CpuPinning.PinCurrentThread(cpu);
            }

            var length = server.RecvFirst();
            for (var i = 0; i < roundTrips; i++)
            {
                length = server.SendRecv(length);
            }
        }) { IsBackground = true };
        responder.Start();
        client.Connect();
        var micros = new double[roundTrips];
        for (var i = 0; i < roundTrips; i++)
        {
            var started = Stopwatch.GetTimestamp();
            client.SendRecv(8);
            micros[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        client.SendLast(0);
        responder.Join();
        return micros;
    }
}
