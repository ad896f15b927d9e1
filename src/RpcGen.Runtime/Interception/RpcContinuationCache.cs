namespace RpcGen;

/// <summary>
/// The continuation handed to the interceptor at each position of a pipeline, created once per
/// position (and, for clients, per call shape) and shared by every call: a continuation carries no
/// state of its own (the call's context travels as its argument), so running interceptors allocates
/// no delegates.
/// </summary>
internal sealed class RpcContinuationCache<TContinuation>(Func<int, TContinuation> create)
    where TContinuation : Delegate
{
    private TContinuation[] _byIndex = [];

    /// <summary>The continuation that runs the pipeline from position <paramref name="index"/> on.</summary>
    public TContinuation At(int index)
    {
        var known = Volatile.Read(ref _byIndex);
        if (index < known.Length)
        {
            return known[index];
        }

        var grown = new TContinuation[index + 1];
        known.CopyTo(grown, 0);
        for (var i = known.Length; i < grown.Length; i++)
        {
            grown[i] = create(i);
        }

        // A racing thread may publish its own array; both hold equivalent delegates.
        Volatile.Write(ref _byIndex, grown);
        return grown[index];
    }
}
