using System.Diagnostics;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// One caller's measurement: a preallocated array of per-call latencies (Stopwatch ticks) and the
/// two bounds that end the caller's loop, a call count and a deadline, whichever comes first.
/// </summary>
public sealed class CallerRecorder(int capacity)
{
    private readonly int[] _latencies = new int[Math.Max(capacity, 1)];
    private long _deadline;

    public int Count { get; private set; }

    public ReadOnlySpan<int> Latencies => _latencies.AsSpan(0, Count);

    /// <summary>Starts a phase that ends at <paramref name="deadline"/> (a Stopwatch timestamp) or when the array is full.</summary>
    public void Begin(long deadline)
    {
        Count = 0;
        _deadline = deadline;
    }

    public bool ShouldContinue => Count < _latencies.Length && Stopwatch.GetTimestamp() < _deadline;

    public void Record(long startTimestamp)
    {
        var elapsed = Stopwatch.GetTimestamp() - startTimestamp;
        _latencies[Count++] = elapsed > int.MaxValue ? int.MaxValue : (int)elapsed;
    }
}
