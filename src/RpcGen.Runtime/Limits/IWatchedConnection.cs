namespace RpcGen.Limits;

/// <summary>A connection whose time limits a <see cref="ConnectionWatchdog"/> checks.</summary>
internal interface IWatchedConnection
{
    /// <summary>Closes the connection (with a log line) if one of its time limits has passed at <paramref name="now"/>, a <see cref="TimeProvider.GetTimestamp"/> value.</summary>
    void CheckTimeouts(long now);
}
