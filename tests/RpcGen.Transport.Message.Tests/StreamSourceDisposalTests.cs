using System.Threading.Tasks.Sources;

namespace RpcGen.Transport.Message.Tests;

[RpcService(0x5E57_0000_0000_0051)]
public interface ISteppedDownloadService
{
    /// <summary>A stream whose reads the test completes, one at a time.</summary>
    [RpcMethod(1)]
    Task<Stream> DownloadAsync();
}

/// <summary>
/// A <c>Stream</c> result is read straight into the frames the server sends (no chunk buffer in
/// between), so a read in progress writes into a frame buffer: when the call ends under it, the
/// server must let that read finish before it returns the buffer and disposes the stream, and never
/// ask for a read while one runs. The same rule as <see cref="StreamProducerDisposalTests"/>, for
/// the byte-stream path.
/// </summary>
public class StreamSourceDisposalTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_stream_is_disposed_only_after_the_read_it_was_on_when_the_connection_closed(string transport)
    {
        var source = new SteppedStream();
        await using var server = new RpcServer(TransportFixture.ServerOptions(transport));
        server.AddService<ISteppedDownloadService>(new SteppedDownloadService(source));
        await server.StartAsync(TransportFixture.NewAddress(transport));
        var client = await TransportFixture.ConnectToAsync(server.Addresses[0]);
        await using var download = await client.GetService<ISteppedDownloadService>().DownloadAsync().WaitAsync(Timeout);
        var firstRead = download.ReadAsync(new byte[1024]).AsTask();
        Assert.Equal(1, await source.ReadsStarted.ReadAsync().AsTask().WaitAsync(Timeout));

        // The client goes away while the server's read is in progress: the server closes the
        // connection and cancels the call, which the read sees through its token.
        await client.DisposeAsync();
        await source.Cancelled.WaitAsync(Timeout);
        await Assert.ThrowsAsync<RpcException>(() => firstRead.WaitAsync(Timeout));

        // The read completes anyway, with bytes written into the server's buffer. Whatever the
        // server does next (it may ask for one more read before it sees the call is over), the
        // stream is disposed, and only once no read runs.
        source.Complete(100);
        var disposed = source.Disposed;
        var secondRead = source.ReadsStarted.ReadAsync().AsTask();
        if (await Task.WhenAny(disposed, secondRead).WaitAsync(Timeout) == secondRead)
        {
            source.Complete(0);
        }

        Assert.False(await disposed.WaitAsync(Timeout), "The stream was disposed while a read ran.");
        Assert.False(source.Overlapped, "A read was asked for while the one before it ran.");
    }

    private sealed class SteppedDownloadService(SteppedStream stream) : ISteppedDownloadService
    {
        public Task<Stream> DownloadAsync() => Task.FromResult<Stream>(stream);
    }

    /// <summary>
    /// A read-only stream whose reads the test completes (<see cref="Complete"/>), recording how the
    /// server used it. A read completes inline: the server then runs on the test's thread up to its
    /// next wait before <see cref="Complete"/> returns.
    /// </summary>
    private sealed class SteppedStream : ReadOnlyTestStream, IValueTaskSource<int>
    {
        private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<bool> _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Channel<int> _readsStarted = Channel.CreateUnbounded<int>();
        private ManualResetValueTaskSourceCore<int> _read;
        private Memory<byte> _destination;
        private int _readsTaken;

        // 1 from ReadAsync until the test completes that read.
        private int _reading;
        private volatile bool _overlapped;

        /// <summary>The number of each read the server asked for, as it asked.</summary>
        public ChannelReader<int> ReadsStarted => _readsStarted.Reader;

        /// <summary>Completes when a read's token fires.</summary>
        public Task Cancelled => _cancelled.Task;

        /// <summary>Completes on disposal, with whether a read was still running then.</summary>
        public Task<bool> Disposed => _disposed.Task;

        /// <summary>Whether the server asked for a read while the one before it ran.</summary>
        public bool Overlapped => _overlapped;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _reading, 1) == 1)
            {
                _overlapped = true;
            }

            cancellationToken.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), _cancelled);
            _destination = buffer;
            _read.Reset();
            _readsStarted.Writer.TryWrite(++_readsTaken);
            return new ValueTask<int>(this, _read.Version);
        }

        /// <summary>Completes the running read with <paramref name="bytes"/> bytes written into its buffer (0: the end).</summary>
        public void Complete(int bytes)
        {
            _destination.Span[..bytes].Fill(0x5A);
            Volatile.Write(ref _reading, 0);
            _read.SetResult(bytes);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override ValueTask DisposeAsync()
        {
            _disposed.TrySetResult(Volatile.Read(ref _reading) == 1);
            return default;
        }

        protected override void Dispose(bool disposing) => _disposed.TrySetResult(Volatile.Read(ref _reading) == 1);

        int IValueTaskSource<int>.GetResult(short token) => _read.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);

        void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _read.OnCompleted(continuation, state, token, flags);
    }
}
