using Microsoft.Extensions.Logging;

namespace RpcGen.Soak;

/// <summary>
/// A logger provider that keeps nothing and only signals each line, so the harness can wait for
/// connections to close (each close logs a line) by looking again at each line, not on a clock.
/// </summary>
public sealed class LogPulse : ILoggerProvider, ILogger
{
    private readonly SemaphoreSlim _lines = new(0);

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, looking again at each logged line and at least
    /// every 100 ms (some changes, a cancelled handler ending, log nothing); false after <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await _lines.WaitAsync(TimeSpan.FromMilliseconds(100));
        }

        return true;
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        // At most one waiter: a count above one would only make it look again for nothing.
        if (_lines.CurrentCount == 0)
        {
            _lines.Release();
        }
    }

    public void Dispose() => _lines.Dispose();
}
