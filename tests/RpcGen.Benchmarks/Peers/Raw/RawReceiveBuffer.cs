namespace RpcGen.Benchmarks.Peers.Raw;

/// <summary>The bytes received but not yet parsed, in one array that is compacted or grown as frames need.</summary>
public sealed class RawReceiveBuffer(int initialCapacity = 64 * 1024)
{
    private byte[] _buffer = new byte[initialCapacity];
    private int _start;
    private int _end;

    public ReadOnlySpan<byte> Available => _buffer.AsSpan(_start, _end - _start);

    public ReadOnlyMemory<byte> AvailableMemory => _buffer.AsMemory(_start, _end - _start);

    public int Count => _end - _start;

    /// <summary>Space to receive into, at least <paramref name="minimumFree"/> bytes.</summary>
    public Memory<byte> GetFreeMemory(int minimumFree)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }

        if (_buffer.Length - _end < minimumFree)
        {
            var count = _end - _start;
            if (_buffer.Length - count >= minimumFree)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, count);
            }
            else
            {
                var bigger = new byte[Math.Max(_buffer.Length * 2, count + minimumFree)];
                Buffer.BlockCopy(_buffer, _start, bigger, 0, count);
                _buffer = bigger;
            }

            _start = 0;
            _end = count;
        }

        return _buffer.AsMemory(_end);
    }

    public void Received(int count) => _end += count;

    public void Consume(int count) => _start += count;
}
