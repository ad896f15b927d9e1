using MessagePack;
using RpcGen.Generators.Tests.Contracts;
using RpcGen.Generators.Tests.Infrastructure;
using RpcGen.Serialization;

namespace RpcGen.Generators.Tests;

/// <summary>Malformed or malicious payloads fail with <see cref="RpcStatusCode.InvalidPayload"/>, never worse.</summary>
public class HostilePayloadTests
{
    private static void AssertInvalid<T>(byte[] payload) => AssertInvalid(payload, RpcFormatter<T>.Instance);

    private static void AssertInvalid<T>(byte[] payload, IRpcFormatter<T> formatter)
    {
        var error = Assert.Throws<RpcException>(() => RpcSerializer.Deserialize(payload, formatter));
        Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
    }

    [Fact]
    public void WrongTypeForAMemberIsInvalid()
    {
        // [42, 36]: a number where the name string belongs.
        AssertInvalid<Person>([0x92, 42, 36]);

        // A string where a DTO array belongs.
        AssertInvalid<Person>([0xA1, (byte)'x']);
    }

    [Fact]
    public void TruncatedPayloadIsInvalid()
    {
        var payload = Wire.Write(new Person("Ada Lovelace", 36));

        for (var length = 1; length < payload.Length; length++)
        {
            AssertInvalid<Person>(payload[..length]);
        }
    }

    [Fact]
    public void TrailingBytesAreInvalid()
    {
        AssertInvalid<Person>([.. Wire.Write(new Person("A", 1)), 0x00]);
    }

    [Fact]
    public void HugeDeclaredArrayLengthFailsBeforeAllocating()
    {
        // array32 claiming 2^31-1 elements, followed by a single byte.
        AssertInvalid<Tree>([0xDD, 0x7F, 0xFF, 0xFF, 0xFF, 0x01]);
        AssertInvalid([0xDD, 0x7F, 0xFF, 0xFF, 0xFF, 0x01], new ArrayFormatter<int>(Int32Formatter.Instance));

        // A tree node whose children list claims more elements than remain.
        AssertInvalid<Tree>([0x92, 0x01, 0xDD, 0x7F, 0xFF, 0xFF, 0xFF]);
    }

    [Fact]
    public void DepthBombThroughKnownMembersIsInvalid()
    {
        AssertInvalid<Tree>(NestedTrees(RpcSerializer.MaxDepth + 1));
    }

    [Fact]
    public void DepthBombInASkippedMemberIsInvalid()
    {
        // [name, age, <unknown trailing element nested 100000 arrays deep>]
        var bomb = new List<byte> { 0x93, 0xA1, (byte)'a', 0x01 };
        for (var i = 0; i < 100_000; i++)
        {
            bomb.Add(0x91);
        }

        bomb.Add(0xC0);

        AssertInvalid<Person>([.. bomb]);
    }

    [Fact]
    public void NestingWithinTheLimitIsAccepted()
    {
        var tree = Wire.Read<Tree>(NestedTrees(RpcSerializer.MaxDepth / 2 - 1));

        var depth = 0;
        for (var node = tree; node.Children.Count > 0; node = node.Children[0])
        {
            depth++;
        }

        Assert.Equal(RpcSerializer.MaxDepth / 2 - 1, depth);
    }

    [Fact]
    public void UnknownPolymorphicTagIsInvalid()
    {
        // [9, ["x"]]
        AssertInvalid<Shape>([0x92, 0x09, 0x91, 0xA1, (byte)'x']);

        // A base that is abstract has no tag -1.
        AssertInvalid<Shape>([0x92, 0xFF, 0x91, 0xA1, (byte)'x']);

        // Not a two-element array.
        AssertInvalid<Shape>([0x93, 0x01, 0x91, 0xA1, (byte)'x', 0xC0]);
    }

    [Fact]
    public void DuplicateDictionaryKeysAreInvalid()
    {
        // { "a": 1, "a": 2 }
        AssertInvalid(
            [0x82, 0xA1, (byte)'a', 0x01, 0xA1, (byte)'a', 0x02],
            CatalogRpc.Formatters.IReadOnlyDictionary_String_Color);
    }

    /// <summary>A chain of <paramref name="levels"/> tree nodes, each the only child of the one above (two nesting levels per node).</summary>
    private static byte[] NestedTrees(int levels)
    {
        // [1, [child]] ... [1, []]
        var bytes = new List<byte>();
        for (var i = 0; i < levels; i++)
        {
            bytes.AddRange([0x92, 0x01, 0x91]);
        }

        bytes.AddRange([0x92, 0x01, 0x90]);
        return [.. bytes];
    }

    [Fact]
    public void MessagePackReaderDepthIsRestoredAfterEachValue()
    {
        var formatter = new ArrayFormatter<Tree>(RpcFormatter<Tree>.Instance);
        var payload = RpcSerializer.Serialize([new Tree { Value = 1, Children = [new Tree()] }, new Tree { Value = 2 }], formatter);
        var reader = new MessagePackReader(payload);

        formatter.Deserialize(ref reader);

        Assert.Equal(0, reader.Depth);
    }

    [Fact]
    public void DeeplyNestedValueWhereNothingIsExpectedIsRefusedPastMaxDepth()
    {
        // [[[[…nil…]]]] a million levels deep where RpcVoid (a method without parameters or result) belongs.
        var payload = Enumerable.Repeat((byte)0x91, 1_000_000).Append((byte)0xC0).ToArray();

        AssertInvalid(payload, RpcVoidFormatter.Instance);
    }

    [Fact]
    public void DeeplyNestedRequestToAMethodWithoutParametersIsInvalidBeforeTheImplementationRuns()
    {
        var payload = Enumerable.Repeat((byte)0x91, 1_000_000).Append((byte)0xC0).ToArray();
        var dispatcher = RpcServiceRegistry.CreateDispatcher<IGreeter>(new RefusingGreeter());

        var error = Assert.Throws<RpcException>(() => dispatcher.DispatchAsync(new LoopbackCall(GreeterRpc.PingAsync, default), new System.Buffers.ReadOnlySequence<byte>(payload)));

        Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
    }

    [Fact]
    public void NestingWithinTheLimitWhereNothingIsExpectedIsSkipped()
    {
        // A newer peer may send a value where this side expects none; within MaxDepth it is skipped.
        var payload = Enumerable.Repeat((byte)0x91, RpcSerializer.MaxDepth - 1).Append((byte)0xC0).ToArray();

        Assert.Equal(default, RpcSerializer.Deserialize(payload, RpcVoidFormatter.Instance));
    }

    /// <summary>An implementation no test may reach: the payload must be refused before it is called.</summary>
    private sealed class RefusingGreeter : IGreeter
    {
        public Task<HelloReply> SayHelloAsync(HelloRequest request, CancellationToken cancellationToken = default) => throw Unexpected();

        public void Notify(string message) => throw Unexpected();

        public ValueTask<int> AddAsync(int a, int b) => throw Unexpected();

        public Task PingAsync() => throw Unexpected();

        public ValueTask LogAsync(string line) => throw Unexpected();

        private static InvalidOperationException Unexpected() => new("The dispatcher called the implementation with a payload it should have refused.");
    }
}
