namespace RpcGen.Transport.Message;

/// <summary>
/// How a client reconnects after its connection dropped (<see cref="RpcClientOptions.Reconnect"/>):
/// the first attempt is immediate, then each failed attempt waits
/// <c>min(MaxBackoff, InitialBackoff × Multiplier^(failures-1))</c>, spread by ±<see cref="Jitter"/>
/// so that many clients of one restarted server do not all reconnect in the same instant.
/// The client keeps trying until it is disposed.
/// </summary>
/// <example>
/// <code>
/// var options = new RpcClientOptions { Reconnect = RpcReconnectPolicy.Default, WaitForReady = true };
/// await using var client = await RpcClient.ConnectAsync("tcp://127.0.0.1:5000", options);
/// </code>
/// </example>
public sealed class RpcReconnectPolicy
{
    /// <summary>250 ms initial backoff, ×1.6 per failure, at most 30 s, ±20 % jitter.</summary>
    public static RpcReconnectPolicy Default { get; } = new();

    /// <summary>The wait after the first failed attempt. Default 250 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between attempts, jitter included. Default 30 s.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How much longer each wait is than the one before (at least 1). Default 1.6.</summary>
    public double Multiplier { get; init; } = 1.6;

    /// <summary>The fraction (0 to 1) by which each wait is randomly lengthened or shortened. Default 0.2.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>
    /// The wait before attempt number <paramref name="failures"/> + 1, after that many failed
    /// attempts in a row; <paramref name="random"/> is a uniform sample in [0, 1).
    /// </summary>
    public TimeSpan BackoffAfter(int failures, double random)
    {
        if (failures <= 0)
        {
            return TimeSpan.Zero;
        }

        // Computed in doubles and capped before converting, so a long outage cannot overflow.
        var exponent = Math.Min(failures - 1, 1000);
        var ticks = Math.Min(MaxBackoff.Ticks, InitialBackoff.Ticks * Math.Pow(Multiplier, exponent));
        ticks *= 1 + (Jitter * ((2 * random) - 1));
        return TimeSpan.FromTicks((long)Math.Clamp(ticks, 0, MaxBackoff.Ticks));
    }

    internal void Validate()
    {
        if (InitialBackoff <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialBackoff), InitialBackoff, "RpcReconnectPolicy.InitialBackoff must be positive.");
        }

        if (MaxBackoff < InitialBackoff)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBackoff), MaxBackoff, "RpcReconnectPolicy.MaxBackoff must be at least InitialBackoff.");
        }

        if (!(Multiplier >= 1) || double.IsInfinity(Multiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(Multiplier), Multiplier, "RpcReconnectPolicy.Multiplier must be a finite number of at least 1.");
        }

        if (!(Jitter >= 0 && Jitter <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Jitter), Jitter, "RpcReconnectPolicy.Jitter must be between 0 and 1.");
        }
    }
}
