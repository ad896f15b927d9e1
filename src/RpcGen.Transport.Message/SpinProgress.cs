namespace RpcGen.Transport.Message;

/// <summary>Where one spin of an <see cref="AdaptiveSpin"/> is; starts as <c>default</c>, owned by the spinning thread.</summary>
internal struct SpinProgress
{
    /// <summary>When the spin's busy rounds end and its yielding rounds begin (a timestamp; 0 before the first round).</summary>
    public long BusyUntil;

    /// <summary>Busy rounds left before the spin reads the clock again.</summary>
    public int BusyRoundsBeforeClock;
}
