namespace RpcGen;

/// <summary>The shape of a call.</summary>
public enum RpcMethodKind
{
    /// <summary>One request, one response (or error).</summary>
    Unary = 0,

    /// <summary>One request, no response: fire and forget.</summary>
    OneWay = 1,
}
