namespace RpcGen;

/// <summary>
/// Makes the calls of a scope wait for a reconnecting client to be connected (up to their deadline
/// or cancellation) instead of failing at once while it is disconnected, or the opposite; the
/// client's own setting applies outside any scope.
/// </summary>
/// <example>
/// <code>
/// using (RpcWaitForReady.Set(true))
/// using (RpcDeadline.After(TimeSpan.FromSeconds(30)))
/// {
///     await inventory.ReserveAsync(order);
/// }
/// </code>
/// </example>
public static class RpcWaitForReady
{
    private static readonly AsyncLocal<bool?> s_waitForReady = new();

    /// <summary>The choice made by the innermost scope here, or null outside any scope.</summary>
    public static bool? Current => s_waitForReady.Value;

    /// <summary>Calls made until the returned scope is disposed wait for a connection when <paramref name="wait"/> is true.</summary>
    public static Scope Set(bool wait)
    {
        var previous = s_waitForReady.Value;
        s_waitForReady.Value = wait;
        return new Scope(previous);
    }

    /// <summary>Restores the enclosing choice when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly bool? _previous;

        internal Scope(bool? previous) => _previous = previous;

        /// <inheritdoc />
        public void Dispose() => s_waitForReady.Value = _previous;
    }
}
