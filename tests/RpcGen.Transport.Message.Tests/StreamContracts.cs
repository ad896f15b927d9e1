using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace RpcGen.Transport.Message.Tests;

public record Chunk(int Index, string Text);

[RpcService(0x5E57_0000_0000_0002)]
public interface IStreamingService
{
    [RpcMethod(1)]
    IAsyncEnumerable<int> CountAsync(int from, int count, CancellationToken cancellationToken = default);

    [RpcMethod(2)]
    Task<long> SumAsync(IAsyncEnumerable<int> numbers, CancellationToken cancellationToken = default);

    [RpcMethod(3)]
    IAsyncEnumerable<string> ShoutAsync(IAsyncEnumerable<string> lines, CancellationToken cancellationToken = default);

    [RpcMethod(4)]
    Task<Stream> DownloadAsync(long bytes, CancellationToken cancellationToken = default);

    [RpcMethod(5)]
    Task<string> UploadAsync(Stream data, CancellationToken cancellationToken = default);

    [RpcMethod(6)]
    IAsyncEnumerable<Chunk> FailAfterAsync(int count, CancellationToken cancellationToken = default);

    [RpcMethod(7)]
    IAsyncEnumerable<byte[]> ProduceAsync(string key, int itemBytes, CancellationToken cancellationToken = default);

    /// <summary>Takes a request stream and never reads it; finishes only when cancelled.</summary>
    [RpcMethod(8)]
    Task<int> IgnoreAsync(IAsyncEnumerable<int> numbers, CancellationToken cancellationToken = default);

    /// <summary>Items of sizes around the sender's batching limit, without pauses; item i is filled with (byte)i.</summary>
    [RpcMethod(9)]
    IAsyncEnumerable<byte[]> MixedSizesAsync(int count, CancellationToken cancellationToken = default);

    /// <summary>The numbers 0 to <paramref name="count"/> - 1 as fast as the transport takes them (the producer never waits of its own accord).</summary>
    [RpcMethod(10)]
    IAsyncEnumerable<int> BurstAsync(int count, CancellationToken cancellationToken = default);

    /// <summary>A stream of the byte blocks the test writes to <see cref="StreamingService.Drip"/> for <paramref name="key"/>, each sent as it comes; it ends when the test completes the writer.</summary>
    [RpcMethod(11)]
    Task<Stream> DripAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>The server side of the streaming scenarios; it reports what it produced and saw.</summary>
public sealed class StreamingService : IStreamingService
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Channel<int>> _produced = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> _cancelled = new();

    /// <summary>The running count of items produced for <paramref name="key"/>, one entry per item.</summary>
    public ChannelReader<int> Produced(string key) => ProducedChannel(key).Reader;

    public Task ProducerCancelled(string key) =>
        _cancelled.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public async IAsyncEnumerable<int> CountAsync(int from, int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return from + i;
        }
    }

    public async Task<long> SumAsync(IAsyncEnumerable<int> numbers, CancellationToken cancellationToken = default)
    {
        long sum = 0;
        await foreach (var n in numbers.WithCancellation(cancellationToken))
        {
            sum += n;
        }

        return sum;
    }

    public async IAsyncEnumerable<string> ShoutAsync(IAsyncEnumerable<string> lines, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var line in lines.WithCancellation(cancellationToken))
        {
            yield return line.ToUpperInvariant();
        }
    }

    public Task<Stream> DownloadAsync(long bytes, CancellationToken cancellationToken = default) =>
        Task.FromResult<Stream>(new PatternStream(bytes));

    public async Task<int> IgnoreAsync(IAsyncEnumerable<int> numbers, CancellationToken cancellationToken = default)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    public async Task<string> UploadAsync(Stream data, CancellationToken cancellationToken = default)
    {
        using var sha = SHA256.Create();
        var hash = await sha.ComputeHashAsync(data, cancellationToken);
        return Convert.ToHexString(hash);
    }

    public async IAsyncEnumerable<Chunk> FailAfterAsync(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return new Chunk(i, $"chunk {i}");
        }

        throw new InvalidOperationException($"failed after {count} chunks");
    }

    /// <summary>The item lengths <see cref="MixedSizesAsync"/> cycles through: empty, small, around 1 KiB either side, large.</summary>
    public static readonly int[] MixedSizes = [0, 1, 24, 900, 1000, 1014, 1015, 1016, 1030, 5000, 3, 70_000, 7];

    public IAsyncEnumerable<byte[]> MixedSizesAsync(int count, CancellationToken cancellationToken = default) =>
        Enumerable.Range(0, count).Select(i => Enumerable.Repeat((byte)i, MixedSizes[i % MixedSizes.Length]).ToArray()).ToAsyncEnumerable();

    public async IAsyncEnumerable<int> BurstAsync(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask;
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return i;
        }
    }

    public async IAsyncEnumerable<byte[]> ProduceAsync(string key, int itemBytes, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var produced = ProducedChannel(key).Writer;
        try
        {
            for (var i = 1; ; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                produced.TryWrite(i);
                yield return new byte[itemBytes];
                await Task.Yield();
            }
        }
        finally
        {
            _cancelled.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Channel<byte[]>> _drips = new();

    /// <summary>Where the test writes the blocks <see cref="DripAsync"/> sends for <paramref name="key"/>.</summary>
    public ChannelWriter<byte[]> Drip(string key) => DripChannel(key).Writer;

    /// <summary>Completes when the stream <see cref="DripAsync"/> returned for <paramref name="key"/> is disposed (its transfer ended).</summary>
    public Task DripEnded(string key) => DripDisposed(key).Task;

    public Task<Stream> DripAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult<Stream>(new GatedStream(DripChannel(key).Reader, DripDisposed(key)));

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> _dripsDisposed = new();

    private TaskCompletionSource DripDisposed(string key) =>
        _dripsDisposed.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private Channel<byte[]> DripChannel(string key) => _drips.GetOrAdd(key, _ => Channel.CreateUnbounded<byte[]>());

    private Channel<int> ProducedChannel(string key) => _produced.GetOrAdd(key, _ => Channel.CreateUnbounded<int>());
}

/// <summary>A read-only stream of a deterministic byte pattern, so both ends can hash it without storing it.</summary>
public sealed class PatternStream(long length) : ReadOnlyTestStream
{
    private long _position;

    public static byte At(long position) => (byte)((position * 31) ^ (position >> 8));

    public static string Sha256Hex(long length)
    {
        using var sha = SHA256.Create();
        return Convert.ToHexString(sha.ComputeHash(new PatternStream(length)));
    }

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, length - _position);
        for (var i = 0; i < n; i++)
        {
            buffer[i] = At(_position + i);
        }

        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        new(Read(buffer.Span));
}

/// <summary>A read-only stream whose bytes are the blocks a channel delivers, in order; it ends when the channel completes, and says when it is disposed.</summary>
public sealed class GatedStream(ChannelReader<byte[]> blocks, TaskCompletionSource disposed) : ReadOnlyTestStream
{
    private ReadOnlyMemory<byte> _current;

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_current.IsEmpty)
        {
            if (!await blocks.WaitToReadAsync(cancellationToken))
            {
                return 0;
            }

            if (blocks.TryRead(out var block))
            {
                _current = block;
            }
        }

        var n = Math.Min(buffer.Length, _current.Length);
        _current[..n].CopyTo(buffer);
        _current = _current[n..];
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        disposed.TrySetResult();
        base.Dispose(disposing);
    }
}
