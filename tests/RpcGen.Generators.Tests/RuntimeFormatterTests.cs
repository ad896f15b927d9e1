using MessagePack;
using RpcGen.Serialization;

namespace RpcGen.Generators.Tests;

/// <summary>The runtime formatters generated code composes for interface-typed collections, and the skipper it uses for unknown members.</summary>
public class RuntimeFormatterTests
{
    private static readonly CollectionInterfaceFormatter<IEnumerable<int>, int> Sequence = new(Int32Formatter.Instance);
    private static readonly DictionaryInterfaceFormatter<IReadOnlyDictionary<string, int>, string, int> ReadOnlyMap = new(StringFormatter.Instance, Int32Formatter.Instance);

    private static IEnumerable<int> Lazy()
    {
        yield return 1;
        yield return 2;
    }

    [Fact]
    public void LazySequenceIsWrittenAsAnArrayAndReadBackAsAList()
    {
        var bytes = RpcSerializer.Serialize(Lazy(), Sequence);

        Assert.Equal([0x92, 0x01, 0x02], bytes);
        Assert.Equal([1, 2], Assert.IsType<List<int>>(RpcSerializer.Deserialize(bytes, Sequence)));
    }

    [Fact]
    public void NullCollectionsAreNil()
    {
        Assert.Equal([0xC0], RpcSerializer.Serialize(null!, Sequence));
        Assert.Null(RpcSerializer.Deserialize(new byte[] { 0xC0 }, Sequence));
        Assert.Equal([0xC0], RpcSerializer.Serialize(null!, ReadOnlyMap));
        Assert.Null(RpcSerializer.Deserialize(new byte[] { 0xC0 }, ReadOnlyMap));
    }

    [Fact]
    public void CollectionInterfaceFormatterRefusesInterfacesListDoesNotImplement()
    {
        Assert.Throws<ArgumentException>(() => new CollectionInterfaceFormatter<ISet<int>, int>(Int32Formatter.Instance));
        Assert.Throws<ArgumentException>(() => new DictionaryInterfaceFormatter<SortedDictionary<int, int>, int, int>(Int32Formatter.Instance, Int32Formatter.Instance));
    }

    [Fact]
    public void ReadOnlyDictionaryOfAnyImplementationRoundTrips()
    {
        IReadOnlyDictionary<string, int> sorted = new SortedDictionary<string, int> { ["b"] = 2, ["a"] = 1 };

        var back = RpcSerializer.Deserialize(RpcSerializer.Serialize(sorted, ReadOnlyMap), ReadOnlyMap);

        Assert.IsType<Dictionary<string, int>>(back);
        Assert.Equal(sorted.OrderBy(p => p.Key), back.OrderBy(p => p.Key));
    }

    [Fact]
    public void DictionaryInterfaceReadRejectsDuplicateKeys()
    {
        var error = Assert.Throws<RpcException>(() => RpcSerializer.Deserialize(new byte[] { 0x82, 0xA1, (byte)'a', 0x01, 0xA1, (byte)'a', 0x02 }, ReadOnlyMap));

        Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
    }

    [Theory]
    [InlineData(new byte[] { 0x01 })]
    [InlineData(new byte[] { 0xA3, (byte)'a', (byte)'b', (byte)'c' })]
    [InlineData(new byte[] { 0x93, 0x01, 0x91, 0x02, 0x81, 0xA1, (byte)'k', 0x90 })]
    [InlineData(new byte[] { 0xC4, 0x02, 0x00, 0x00 })]
    [InlineData(new byte[] { 0xD6, 0xFF, 0x00, 0x00, 0x00, 0x00 })]
    [InlineData(new byte[] { 0x80 })]
    public void SkipperSkipsExactlyOneValue(byte[] value)
    {
        byte[] payload = [.. value, 0x2A];
        var reader = new MessagePackReader(payload);

        MessagePackSkipper.Skip(ref reader);

        Assert.Equal(42, reader.ReadInt32());
        Assert.True(reader.End);
    }

    [Fact]
    public void SkipperRefusesNestingBeyondTheLimitWithoutRecursing()
    {
        var payload = Enumerable.Repeat((byte)0x91, 1_000_000).Append((byte)0xC0).ToArray();

        var error = Assert.Throws<MessagePackSerializationException>(() =>
        {
            var reader = new MessagePackReader(payload);
            MessagePackSkipper.Skip(ref reader);
        });

        Assert.Contains(RpcSerializer.MaxDepth.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
    }

    [Fact]
    public void SkipperCountsTheDepthTheReaderIsAlreadyAt()
    {
        // Three levels of arrays: fine at depth 0, too deep when the reader is already near the limit.
        byte[] payload = [0x91, 0x91, 0x91, 0xC0];

        var reader = new MessagePackReader(payload);
        MessagePackSkipper.Skip(ref reader);
        Assert.True(reader.End);

        Assert.Throws<MessagePackSerializationException>(() =>
        {
            var deep = new MessagePackReader(payload) { Depth = RpcSerializer.MaxDepth - 2 };
            MessagePackSkipper.Skip(ref deep);
        });
    }
}
