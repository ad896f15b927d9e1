namespace RpcGen.Capnp;

/// <summary>
/// A <see cref="TaskCompletionSource{TResult}"/> made on first use, by whichever thread gets there
/// first: a call whose consumer is told its outcome directly never needs one (see
/// <see cref="PendingCall.TryListen"/>), so it is not made up front.
/// </summary>
internal static class LazyCompletion
{
    /// <summary>The source in <paramref name="field"/>, made (continuations asynchronous) and published if there is none yet.</summary>
    public static TaskCompletionSource<T> Get<T>(ref TaskCompletionSource<T>? field)
    {
        var source = Volatile.Read(ref field);
        if (source is null)
        {
            var created = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            source = Interlocked.CompareExchange(ref field, created, null) ?? created;
        }

        return source;
    }
}
