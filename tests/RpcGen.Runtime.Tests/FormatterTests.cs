using MessagePack;
using RpcGen.Serialization;

namespace RpcGen.Runtime.Tests;

public class FormatterTests
{
    private static T RoundTrip<T>(T value) =>
        RpcSerializer.Deserialize(RpcSerializer.Serialize(value, RpcFormatter<T>.Instance), RpcFormatter<T>.Instance);

    [Fact]
    public void Builtin_types_round_trip()
    {
        Assert.True(RoundTrip(true));
        Assert.Equal(byte.MaxValue, RoundTrip(byte.MaxValue));
        Assert.Equal(sbyte.MinValue, RoundTrip(sbyte.MinValue));
        Assert.Equal(short.MinValue, RoundTrip(short.MinValue));
        Assert.Equal(ushort.MaxValue, RoundTrip(ushort.MaxValue));
        Assert.Equal(int.MinValue, RoundTrip(int.MinValue));
        Assert.Equal(uint.MaxValue, RoundTrip(uint.MaxValue));
        Assert.Equal(long.MinValue, RoundTrip(long.MinValue));
        Assert.Equal(ulong.MaxValue, RoundTrip(ulong.MaxValue));
        Assert.Equal(1.5f, RoundTrip(1.5f));
        Assert.Equal(Math.PI, RoundTrip(Math.PI));
        Assert.Equal(79228162514264337593543950335m, RoundTrip(79228162514264337593543950335m));
        Assert.Equal('é', RoundTrip('é'));
        Assert.Equal("héllo", RoundTrip("héllo"));
        Assert.Null(RoundTrip<string>(null!));
        Assert.Equal(new byte[] { 1, 2, 3 }, RoundTrip(new byte[] { 1, 2, 3 }));
        var now = new DateTime(2026, 11, 23, 15, 0, 0, 123, DateTimeKind.Utc);
        Assert.Equal(now, RoundTrip(now));
        var offset = new DateTimeOffset(2026, 11, 23, 15, 0, 0, TimeSpan.FromHours(-5));
        Assert.Equal(offset, RoundTrip(offset));
        Assert.Equal(offset.Offset, RoundTrip(offset).Offset);
        Assert.Equal(TimeSpan.FromTicks(123456789), RoundTrip(TimeSpan.FromTicks(123456789)));
        var guid = Guid.NewGuid();
        Assert.Equal(guid, RoundTrip(guid));
    }

    [Fact]
    public void Collections_and_nullables_round_trip()
    {
        var list = new ListFormatter<int>(Int32Formatter.Instance);
        var array = new ArrayFormatter<string>(StringFormatter.Instance);
        var map = new DictionaryFormatter<int, string>(Int32Formatter.Instance, StringFormatter.Instance);
        var nullable = new NullableFormatter<int>(Int32Formatter.Instance);

        Assert.Equal([1, 2, 3], RpcSerializer.Deserialize(RpcSerializer.Serialize([1, 2, 3], list), list));
        Assert.Null(RpcSerializer.Deserialize(RpcSerializer.Serialize(null!, list), list));
        Assert.Equal(["a", null!, "c"], RpcSerializer.Deserialize(RpcSerializer.Serialize(["a", null!, "c"], array), array));
        var dictionary = new Dictionary<int, string> { [1] = "one", [2] = "two" };
        Assert.Equal(dictionary, RpcSerializer.Deserialize(RpcSerializer.Serialize(dictionary, map), map));
        Assert.Null(RpcSerializer.Deserialize(RpcSerializer.Serialize(null, nullable), nullable));
        Assert.Equal(5, RpcSerializer.Deserialize(RpcSerializer.Serialize(5, nullable), nullable));
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_fails_with_InvalidPayload_instead_of_overflowing_the_stack()
    {
        // [[[[...]]]] nested far past MaxDepth, read as a list of lists of ... via a recursive formatter.
        var bytes = new byte[10_000];
        Array.Fill(bytes, (byte)0x91); // fixarray of one element, repeated
        var error = Assert.Throws<RpcException>(() => RpcSerializer.Deserialize(bytes, NestedFormatter.Instance));

        Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
        Assert.Contains("deeper than", error.Message);
    }

    [Fact]
    public void A_declared_length_larger_than_the_payload_is_refused_before_allocating()
    {
        var list = new ListFormatter<int>(Int32Formatter.Instance);
        byte[] hostile = [0xDD, 0x7F, 0xFF, 0xFF, 0xFF, 0x01];

        var error = Assert.Throws<RpcException>(() => RpcSerializer.Deserialize(hostile, list));

        Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
    }

    [Fact]
    public void Trailing_bytes_and_duplicate_keys_are_rejected()
    {
        var map = new DictionaryFormatter<int, int>(Int32Formatter.Instance, Int32Formatter.Instance);

        Assert.Equal(RpcStatusCode.InvalidPayload, Assert.Throws<RpcException>(() => RpcSerializer.Deserialize(new byte[] { 0x01, 0x02 }, Int32Formatter.Instance)).StatusCode);
        Assert.Equal(RpcStatusCode.InvalidPayload, Assert.Throws<RpcException>(() => RpcSerializer.Deserialize(new byte[] { 0x82, 0x01, 0x01, 0x01, 0x02 }, map)).StatusCode);
    }

    [Fact]
    public void Dictionaries_read_from_the_wire_use_randomized_key_hashing()
    {
        var map = new DictionaryFormatter<int, int>(Int32Formatter.Instance, Int32Formatter.Instance);
        var read = RpcSerializer.Deserialize(RpcSerializer.Serialize(new Dictionary<int, int> { [1] = 1 }, map), map);

        Assert.IsType<CollisionResistantComparer<int>>(read.Comparer);
        Assert.NotEqual(1, read.Comparer.GetHashCode(1));
    }

    private sealed class NestedFormatter : IRpcFormatter<int>
    {
        public static readonly NestedFormatter Instance = new();

        public void Serialize(ref MessagePackWriter writer, int value) => throw new NotSupportedException();

        public int Deserialize(ref MessagePackReader reader)
        {
            var count = reader.ReadArrayHeader();
            RpcSerializer.EnterNested(ref reader);
            var depth = 0;
            for (var i = 0; i < count; i++)
            {
                depth = Deserialize(ref reader) + 1;
            }

            reader.Depth--;
            return depth;
        }
    }
}
