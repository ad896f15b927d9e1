namespace RpcGen;

/// <summary>
/// The continuation handed to the interceptor at each position of a client pipeline, created once
/// per position and call shape and shared by every call: it carries no state of its own (the call's
/// context travels as its argument), so running interceptors allocates no delegates.
/// </summary>
internal static class RpcClientContinuations<TRequest, TResponse>
{
    private static RpcClientContinuation<TRequest, TResponse>[] s_byIndex = [];

    public static RpcClientContinuation<TRequest, TResponse> At(int index)
    {
        var known = Volatile.Read(ref s_byIndex);
        if (index < known.Length)
        {
            return known[index];
        }

        var grown = new RpcClientContinuation<TRequest, TResponse>[index + 1];
        known.CopyTo(grown, 0);
        for (var i = known.Length; i < grown.Length; i++)
        {
            var next = i;
            grown[i] = (context, request) => context.InvokeFrom<TRequest, TResponse>(next, request);
        }

        // A racing thread may publish its own array; both hold equivalent delegates.
        Volatile.Write(ref s_byIndex, grown);
        return grown[index];
    }
}
