using RpcGen.Generators.Tests.Contracts;
using RpcGen.Serialization;

namespace RpcGen.Generators.Tests;

public class SmokeTests
{
    [Fact]
    public void HelloReplyRoundTrips()
    {
        var reply = new HelloReply { Message = "hi", Lines = ["a", "b"] };
        var bytes = RpcSerializer.Serialize(reply, RpcFormatter<HelloReply>.Instance);
        var back = RpcSerializer.Deserialize<HelloReply>(bytes, RpcFormatter<HelloReply>.Instance);
        Assert.Equal("hi", back.Message);
        Assert.Equal(["a", "b"], back.Lines!);
    }
}
