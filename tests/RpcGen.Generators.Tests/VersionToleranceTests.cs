using RpcGen.Generators.Tests.Infrastructure;
using RpcGen.Serialization;
using V1 = RpcGen.Generators.Tests.Contracts.V1;
using V2 = RpcGen.Generators.Tests.Contracts.V2;

namespace RpcGen.Generators.Tests;

/// <summary>Appending a member keeps old and new peers compatible in both directions.</summary>
public class VersionToleranceTests
{
    [Fact]
    public void NewReaderDefaultsMembersAnOldWriterDidNotSend()
    {
        var payload = Wire.Write(new V1.Profile { Name = "Ada", Age = 36 });

        var profile = Wire.Read<V2.Profile>(payload);

        Assert.Equal(("Ada", 36), (profile.Name, profile.Age));
        Assert.Null(profile.Email);
        Assert.Equal(["none"], profile.Aliases);
    }

    [Fact]
    public void OldReaderSkipsMembersANewWriterAppended()
    {
        var payload = Wire.Write(new V2.Profile { Name = "Ada", Age = 36, Email = "ada@example.org", Aliases = ["a", "b"] });

        var profile = Wire.Read<V1.Profile>(payload);

        Assert.Equal(("Ada", 36), (profile.Name, profile.Age));
    }

    [Fact]
    public void RequestEnvelopeSkipsTrailingParametersAndDefaultsMissingOnes()
    {
        var v1 = V1.ProfilesRpc.GetAsync.RequestFormatter;
        var longer = RpcSerializer.Serialize(new V2.ProfilesRpc.GetAsyncRequest("ada"), V2.ProfilesRpc.GetAsync.RequestFormatter);

        // A newer caller sends an extra trailing argument: ["ada", [1, 2]].
        byte[] withExtra = [0x92, .. longer[1..], 0x92, 0x01, 0x02];
        Assert.Equal("ada", RpcSerializer.Deserialize(withExtra, v1).Name);

        // An older caller sends fewer: [].
        Assert.Null(RpcSerializer.Deserialize(new byte[] { 0x90 }, v1).Name);
    }
}
