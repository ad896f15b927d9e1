using System.Diagnostics;

namespace FileTransfer;

/// <summary>
/// Counts bytes through a stream and reports progress: a redrawn bar on a terminal, a plain line
/// every 10% when output is redirected.
/// </summary>
public sealed class ProgressStream(Stream inner, long total, string label) : Stream
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _done;
    private int _lastTenth = -1;
    private long _lastDrawTicks;

    public double Seconds => _clock.Elapsed.TotalSeconds;

    public long Done => _done;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => total;

    public override long Position
    {
        get => _done;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Count(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

    /// <summary>Draws the final state and ends the line.</summary>
    public void Finish()
    {
        Draw(force: true);
        if (!Console.IsOutputRedirected)
        {
            Console.WriteLine();
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Count(int read)
    {
        _done += read;
        Draw(force: false);
        return read;
    }

    private void Draw(bool force)
    {
        var fraction = total == 0 ? 1 : (double)_done / total;
        if (Console.IsOutputRedirected)
        {
            var tenth = (int)(fraction * 10);
            if (tenth != _lastTenth && (tenth > _lastTenth || force))
            {
                _lastTenth = tenth;
                Console.WriteLine($"{label}: {tenth * 10,3}% ({_done / 1048576.0:F0} MiB)");
            }

            return;
        }

        var now = _clock.ElapsedTicks;
        if (!force && now - _lastDrawTicks < Stopwatch.Frequency / 10)
        {
            return;
        }

        _lastDrawTicks = now;
        const int width = 30;
        var filled = (int)(fraction * width);
        var rate = _done / 1048576.0 / Math.Max(Seconds, 1e-9);
        Console.Write($"\r{label,-8} [{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,5:F1}% {rate,8:F1} MB/s");
    }
}
