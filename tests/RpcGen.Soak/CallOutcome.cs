namespace RpcGen.Soak;

/// <summary>How one soak call ended, as the caller judged it against its request.</summary>
public enum CallOutcome
{
    /// <summary>The answer matched the request.</summary>
    Ok,

    /// <summary>The call failed the way the soak provoked it to (a cancellation, a deadline, a killed connection).</summary>
    ProvokedFailure,

    /// <summary>The answer belonged to another call, or its items were missing, repeated or out of order.</summary>
    CrossTalk,
}
