using System.Globalization;

namespace RpcGen.Benchmarks.SharedMemory;

/// <summary>What a 64-caller cell measured: calls per second, and the CPU each process used per call (all its threads).</summary>
internal readonly record struct ConcurrentCell(double CallsPerSecond, double ClientCpuMicrosPerCall, double ServerCpuMicrosPerCall)
{
    /// <summary>Both processes' CPU per call.</summary>
    public double CpuMicrosPerCall => ClientCpuMicrosPerCall + ServerCpuMicrosPerCall;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{CallsPerSecond:N0} calls/s, CPU µs per call client {ClientCpuMicrosPerCall:F2} + server {ServerCpuMicrosPerCall:F2}");
}
