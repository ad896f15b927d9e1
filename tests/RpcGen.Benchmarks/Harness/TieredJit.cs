using System.Diagnostics;
using System.Runtime;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// Keeps short warmups from measuring tier-0 code. With the runtime's default call-counting delay
/// (100 ms, ten times that on one CPU, restarted by every method compiled at tier 0) a call path
/// stayed at tier 0 for seconds of calls on the development VM (Cap'n Proto: 4 s unpinned, 10 s
/// pinned; the message transport about 3 s), so a warmup of a fraction of a second compared tier-0
/// code. The harness therefore restarts itself with the delay at 0, and warmups run until the JIT
/// has been quiet for a while.
/// </summary>
public static class TieredJit
{
    /// <summary>The runtime setting; it is read at startup, so it takes a restart.</summary>
    public const string CallCountingDelayVariable = "DOTNET_TC_CallCountingDelayMs";

    /// <summary>This process's setting, or null when it runs with the runtime's default.</summary>
    public static string? CallCountingDelayMs => Environment.GetEnvironmentVariable(CallCountingDelayVariable);

    /// <summary>
    /// The option that picks the tiering setting: <c>--jit settled</c> (the default) restarts with the
    /// delay at 0; <c>--jit default</c> keeps the runtime's default, which is what users run with.
    /// </summary>
    public const string Option = "--jit";

    /// <summary>
    /// When <see cref="CallCountingDelayVariable"/> is not set and <c>--jit default</c> is not given:
    /// runs this harness again with <paramref name="args"/> and the delay at 0 and returns its exit
    /// code. Null when it is set (by the restart, or by the user, whose value is kept) or when the
    /// runtime's default was asked for: go on in this process.
    /// </summary>
    public static async Task<int?> RestartWithoutCallCountingDelayAsync(string[] args)
    {
        var jit = BenchmarkCli.Value(args, Option) ?? "settled";
        if (jit is not ("settled" or "default"))
        {
            await Console.Error.WriteLineAsync($"{Option} must be settled or default, not '{jit}'.").ConfigureAwait(false);
            return 2;
        }

        if (CallCountingDelayMs is not null || jit == "default")
        {
            return null;
        }

        var restart = PinnedChild.StartInfo(args);
        restart.Environment[CallCountingDelayVariable] = "0";
        using var child = Process.Start(restart) ?? throw new InvalidOperationException("The harness did not restart.");
        await child.WaitForExitAsync().ConfigureAwait(false);
        return child.ExitCode;
    }

    /// <summary>The setting as a report states it.</summary>
    public static string Describe(string? delay) => delay is null
        ? "the runtime's default tiering delay"
        : $"`{CallCountingDelayVariable}={delay}`";

    /// <summary>
    /// Runs <paramref name="driver"/> for at least <paramref name="minimum"/>, then until no method has
    /// been compiled for <paramref name="quietPeriod"/>, at most <paramref name="maximum"/>. Returns how
    /// long it ran and whether the JIT had gone quiet.
    /// </summary>
    public static async Task<(TimeSpan Elapsed, bool Settled)> WarmUpAsync(
        CallerDriver driver, CallerRecorder[] recorders, Task[] tasks, TimeSpan minimum, TimeSpan quietPeriod, TimeSpan maximum, TimeSpan timeout)
    {
        var slice = TimeSpan.FromMilliseconds(50);
        var started = Stopwatch.GetTimestamp();
        var compiled = JitInfo.GetCompiledMethodCount();
        var quietSince = started;
        while (true)
        {
            await CompareSuite.RunPhaseAsync(driver, recorders, tasks, slice, timeout).ConfigureAwait(false);
            var now = JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                (compiled, quietSince) = (now, Stopwatch.GetTimestamp());
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            var settled = Stopwatch.GetElapsedTime(quietSince) >= quietPeriod;
            if ((elapsed >= minimum && settled) || elapsed >= maximum)
            {
                return (elapsed, settled);
            }
        }
    }
}
