namespace RpcGen;

/// <summary>
/// Sets a deadline for the calls made in a scope. The remaining time travels with each request; the
/// server sees it in <see cref="RpcCallContext.RemainingTime"/>, and when it passes both sides cancel
/// and the caller gets <see cref="RpcException"/> with <see cref="RpcStatusCode.DeadlineExceeded"/>.
/// </summary>
/// <example>
/// <code>
/// using (RpcDeadline.After(TimeSpan.FromMilliseconds(200)))
/// {
///     var reply = await greeter.SayHelloAsync(request);
/// }
/// </code>
/// </example>
public static class RpcDeadline
{
    private static readonly AsyncLocal<DateTime?> s_deadline = new();

    /// <summary>The deadline (UTC) of calls made here, or null when none is set.</summary>
    public static DateTime? Current => s_deadline.Value;

    /// <summary>Calls made until the returned scope is disposed must finish within <paramref name="timeout"/> from now.</summary>
    public static Scope After(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        return At(DateTime.UtcNow + timeout);
    }

    /// <summary>Calls made until the returned scope is disposed must finish by <paramref name="deadlineUtc"/>. An enclosing earlier deadline still applies.</summary>
    public static Scope At(DateTime deadlineUtc)
    {
        var previous = s_deadline.Value;
        var effective = previous is { } outer && outer < deadlineUtc ? outer : deadlineUtc;
        s_deadline.Value = effective;
        return new Scope(previous);
    }

    /// <summary>Restores the enclosing deadline when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly DateTime? _previous;

        internal Scope(DateTime? previous) => _previous = previous;

        /// <inheritdoc />
        public void Dispose() => s_deadline.Value = _previous;
    }
}
