using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace RpcGen.Capnp.Tests.Streaming;

/// <summary>The test implementation of <see cref="IStreams"/>, with signals the tests await.</summary>
public sealed class StreamsService : IStreams
{
    /// <summary>What <see cref="BlocksAsync"/> did, for the flow-control tests.</summary>
    public BlockProducer Producer { get; } = new();

    /// <summary>What an upload's enumeration ended with: null for a clean end, else the exception.</summary>
    public TaskCompletionSource<Exception?> UploadEnded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>What <see cref="RecordAsync"/> received.</summary>
    public TaskCompletionSource<int[]> Recorded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Fires when <see cref="CountAsync"/> stops before its count: its token was cancelled, or the
    /// server's stream let it go (its consumer's writes failed once the caller hung up, which can
    /// come just before the caller's Finish cancels the token).
    /// </summary>
    public TaskCompletionSource CountStopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The byte at <paramref name="position"/> of every downloaded stream.</summary>
    public static byte Pattern(long position) => (byte)((position * 31) ^ (position >> 11));

    public async IAsyncEnumerable<Reading> ReadingsAsync(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        for (var i = 0; i < count; i++)
        {
            yield return new Reading(i, i * 0.5, "sensor-" + i);
        }
    }

    public async IAsyncEnumerable<int> CountAsync(int from, int count, int failAfter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Reported when the iterator ends, not from a callback on the token: either way of stopping
        // ends it here, and a callback is unregistered unrun when the loop sees the token cancelled
        // (it reads cancelled before its callbacks run) or the consumer lets it go first.
        var completed = false;
        try
        {
            for (var i = 0; i < count; i++)
            {
                if (i == failAfter)
                {
                    throw new InvalidOperationException($"count failed after {failAfter} items");
                }

                await Task.Yield();
                cancellationToken.ThrowIfCancellationRequested();
                yield return from + i;
            }

            completed = true;
        }
        finally
        {
            if (!completed)
            {
                CountStopped.TrySetResult();
            }
        }
    }

    public async IAsyncEnumerable<byte[]> BlocksAsync(int size, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; ; i++)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            Producer.Produced(i);
            yield return new byte[size];
        }
    }

    public async Task<Summary> UploadAsync(string name, IAsyncEnumerable<Reading> readings, CancellationToken cancellationToken = default)
    {
        var count = 0;
        var total = 0.0;
        try
        {
            await foreach (var reading in readings.WithCancellation(cancellationToken))
            {
                count++;
                total += reading.Value;
            }
        }
        catch (Exception error)
        {
            UploadEnded.TrySetResult(error);
            throw;
        }

        UploadEnded.TrySetResult(null);
        return new Summary(name, count, total);
    }

    public async Task<long> SumAsync(IAsyncEnumerable<int> values, int failAfter, CancellationToken cancellationToken = default)
    {
        long sum = 0;
        var seen = 0;
        await foreach (var value in values.WithCancellation(cancellationToken))
        {
            if (seen++ == failAfter)
            {
                throw new InvalidOperationException($"sum refused item {failAfter}");
            }

            sum += value;
        }

        return sum;
    }

    public async Task RecordAsync(IAsyncEnumerable<int> values, CancellationToken cancellationToken = default)
    {
        var items = new List<int>();
        await foreach (var value in values.WithCancellation(cancellationToken))
        {
            items.Add(value);
        }

        Recorded.TrySetResult([.. items]);
    }

    public Task<Stream> DownloadAsync(long length, CancellationToken cancellationToken = default)
    {
        if (length < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), "no such download");
        }

        return Task.FromResult<Stream>(new PatternStream(length));
    }

    public async Task<string> StoreAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[100_000];
        long length = 0;
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            length += read;
        }

        return $"{name}:{length}:{Convert.ToHexString(hash.GetHashAndReset())}";
    }
}

/// <summary>Records each block <see cref="StreamsService.BlocksAsync"/> produces, and whether the consumer had resumed by then.</summary>
public sealed class BlockProducer
{
    private readonly object _gate = new();
    private readonly List<(int Index, bool AfterResume)> _produced = [];
    private readonly Dictionary<int, TaskCompletionSource> _waiters = [];
    private bool _resumed;
    private long _maxInFlight;

    /// <summary>Read at every block produced (the server connection's <see cref="CapnpConnection.StreamBytesInFlight"/>); its largest value is <see cref="MaxInFlight"/>.</summary>
    public Func<long>? InFlightProbe { get; set; }

    /// <summary>The largest value <see cref="InFlightProbe"/> gave.</summary>
    public long MaxInFlight => Interlocked.Read(ref _maxInFlight);

    /// <summary>The blocks produced so far, with whether each came after <see cref="Resume"/>.</summary>
    public IReadOnlyList<(int Index, bool AfterResume)> Log
    {
        get
        {
            lock (_gate)
            {
                return [.. _produced];
            }
        }
    }

    /// <summary>Completes once block <paramref name="index"/> was produced (counted over every stream of the service).</summary>
    public Task WhenProducedAsync(int index)
    {
        lock (_gate)
        {
            if (_produced.Count > index)
            {
                return Task.CompletedTask;
            }

            if (!_waiters.TryGetValue(index, out var waiter))
            {
                _waiters[index] = waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return waiter.Task;
        }
    }

    /// <summary>The consumer starts reading again.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            _resumed = true;
        }
    }

    internal void Produced(int index)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            if (InFlightProbe is { } probe)
            {
                _maxInFlight = Math.Max(_maxInFlight, probe());
            }

            index = _produced.Count;
            _produced.Add((index, _resumed));
            _waiters.Remove(index, out waiter);
        }

        waiter?.TrySetResult();
    }
}

/// <summary>A read-only stream of <see cref="StreamsService.Pattern"/> bytes.</summary>
public sealed class PatternStream(long length) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = (int)Math.Min(count, length - _position);
        for (var i = 0; i < n; i++)
        {
            buffer[offset + i] = StreamsService.Pattern(_position + i);
        }

        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
