using System.Diagnostics;

namespace RpcGen.Soak;

/// <summary>
/// Round-trip times in microseconds. A long soak keeps a uniform sample of bounded size (reservoir
/// sampling), so its memory does not grow with the run and the percentiles stay unbiased.
/// </summary>
public sealed class LatencyRecorder
{
    private const int Capacity = 200_000;

    private readonly double[] _samples = new double[Capacity];
    private readonly Random _random = new(18);
    private readonly Lock _lock = new();
    private long _seen;

    public long Count => Interlocked.Read(ref _seen);

    /// <summary>Times <paramref name="call"/> and records it; the call's own result passes through.</summary>
    public async Task<T> TimeAsync<T>(Func<Task<T>> call)
    {
        var start = Stopwatch.GetTimestamp();
        var result = await call();
        Record(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        return result;
    }

    public void Record(double micros)
    {
        lock (_lock)
        {
            var seen = _seen++;
            if (seen < Capacity)
            {
                _samples[seen] = micros;
            }
            else
            {
                var slot = _random.NextInt64(seen + 1);
                if (slot < Capacity)
                {
                    _samples[slot] = micros;
                }
            }
        }
    }

    /// <summary>The <paramref name="percentile"/> (0–100) of the recorded times, in microseconds; 0 when nothing was recorded.</summary>
    public double Percentile(double percentile)
    {
        double[] sorted;
        lock (_lock)
        {
            sorted = _samples.AsSpan(0, (int)Math.Min(_seen, Capacity)).ToArray();
        }

        if (sorted.Length == 0)
        {
            return 0;
        }

        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
