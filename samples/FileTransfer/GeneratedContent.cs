using System.Text;

namespace FileTransfer;

/// <summary>
/// Text-like bytes (words from a small vocabulary, chosen by a seeded generator) of a given length:
/// compressible the way logs and documents are, and reproducible from the name alone.
/// </summary>
public sealed class GeneratedContent : Stream
{
    private static readonly byte[][] Words = "the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there would their we him been has when who will no more if out so up said what its about than into them can only other time new some could these two may first then do any like my now over such our man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still see own men work long here get both between life being under never day same another know while last might us great old year off come since against go came right used take three"
        .Split(' ').Select(w => Encoding.ASCII.GetBytes(w + " ")).ToArray();

    private readonly long _length;
    private ulong _state;
    private long _position;
    private byte[] _word = [];
    private int _wordOffset;

    public GeneratedContent(string name, long length)
    {
        _length = length;
        // A fixed hash of the name (string.GetHashCode is randomized per process).
        _state = 0x9E3779B97F4A7C15UL;
        foreach (var c in name)
        {
            _state = (_state ^ c) * 1099511628211UL;
        }

        if (_state == 0)
        {
            _state = 1;
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, _length - _position);
        var written = 0;
        while (written < n)
        {
            if (_wordOffset == _word.Length)
            {
                _state ^= _state << 13;
                _state ^= _state >> 7;
                _state ^= _state << 17;
                _word = Words[(int)(_state % (ulong)Words.Length)];
                _wordOffset = 0;
            }

            var take = Math.Min(n - written, _word.Length - _wordOffset);
            _word.AsSpan(_wordOffset, take).CopyTo(buffer[written..]);
            _wordOffset += take;
            written += take;
        }

        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
