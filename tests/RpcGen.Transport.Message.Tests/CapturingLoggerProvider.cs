using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Keeps every log line so tests can check that a failure was explained, and can await a line.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, int EventId, string Message)> _entries = new();
    private readonly Channel<string> _arrivals = Channel.CreateUnbounded<string>();

    public IReadOnlyCollection<(LogLevel Level, int EventId, string Message)> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    /// <summary>
    /// About what the kept lines occupy on the heap (each line's string, its entry here and its
    /// place in the arrivals channel), for tests that measure the process's heap and must not count
    /// this capture as the code under test's memory. It leaves out the queues' unused slots, so it
    /// errs low: subtracting it never hides memory the code under test holds.
    /// </summary>
    public long HeapBytes => _entries.Sum(e => StringBytes(e.Message) + EntryBytes);

    // A slot in the entries queue (the 16-byte tuple and its sequence number: 24 bytes) plus one in
    // the arrivals channel's queue (the reference and its sequence number: 16 bytes).
    private const int EntryBytes = 40;

    // A string's object: header, length, the characters and a terminator, aligned to 8 bytes.
    private static long StringBytes(string text) => ((20L + (2L * (text.Length + 1))) + 7) & ~7L;

    /// <summary>Waits for a line containing <paramref name="text"/> (already logged or still to come).</summary>
    public async Task<string> WaitForAsync(string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        if (_entries.FirstOrDefault(e => e.Message.Contains(text, StringComparison.Ordinal)) is { Message: not null } existing)
        {
            return existing.Message;
        }

        await foreach (var line in _arrivals.Reader.ReadAllAsync(cts.Token))
        {
            if (line.Contains(text, StringComparison.Ordinal))
            {
                return line;
            }
        }

        throw new TimeoutException($"No log line containing '{text}'.");
    }

    /// <summary>Waits until <paramref name="count"/> lines containing <paramref name="text"/> were logged.</summary>
    public async Task WaitForCountAsync(string text, int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var reader = _arrivals.Reader;
        while (true)
        {
            // Empty the arrivals first, then count: a line logged after the count is still in the
            // channel, so the wait below returns at once for it.
            while (reader.TryRead(out _))
            {
            }

            var seen = _entries.Count(e => e.Message.Contains(text, StringComparison.Ordinal));
            if (seen >= count)
            {
                return;
            }

            try
            {
                await reader.WaitToReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{seen} of {count} log lines containing '{text}'.");
            }
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            owner._entries.Enqueue((logLevel, eventId.Id, message));
            owner._arrivals.Writer.TryWrite(message);
        }
    }
}
