using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>The hand-written rpc.capnp offsets against what the schema compiler says.</summary>
public sealed class RpcSchemaTests
{
    [Fact]
    public async Task Rpc_message_offsets_match_the_compiler()
    {
        var rpc = await CapnpTool.CompileAsync("/usr/include/capnp/rpc.capnp");

        AssertStruct(rpc["Message"], RpcSchema.Message.DataWords, RpcSchema.Message.Pointers);
        Assert.Equal(RpcSchema.Message.Which * 16, rpc["Message"].UnionTagBits[string.Empty]);
        (string Name, ushort Tag)[] kinds =
        [
            ("unimplemented", RpcSchema.Message.Unimplemented), ("abort", RpcSchema.Message.Abort), ("bootstrap", RpcSchema.Message.Bootstrap),
            ("call", RpcSchema.Message.Call), ("return", RpcSchema.Message.Return), ("finish", RpcSchema.Message.Finish),
            ("resolve", RpcSchema.Message.Resolve), ("release", RpcSchema.Message.Release), ("disembargo", RpcSchema.Message.Disembargo),
            ("provide", RpcSchema.Message.Provide), ("accept", RpcSchema.Message.Accept), ("join", RpcSchema.Message.Join),
        ];
        foreach (var (name, tag) in kinds)
        {
            Assert.Equal(tag, rpc["Message"][name].UnionTag);
            Assert.Equal(RpcSchema.Message.Body, rpc["Message"][name].PointerIndex);
        }

        var call = rpc["Call"];
        AssertStruct(call, RpcSchema.Call.DataWords, RpcSchema.Call.Pointers);
        Assert.Equal(RpcSchema.Call.QuestionId, call["questionId"].Offset);
        Assert.Equal(RpcSchema.Call.Target, call["target"].PointerIndex);
        Assert.Equal(RpcSchema.Call.InterfaceId, call["interfaceId"].Offset);
        Assert.Equal(RpcSchema.Call.MethodId, call["methodId"].Offset);
        Assert.Equal(RpcSchema.Call.Params, call["params"].PointerIndex);
        Assert.Equal(RpcSchema.Call.SendResultsTo * 16, call.UnionTagBits["sendResultsTo"]);
        Assert.Equal(RpcSchema.Call.ToYourself, call["sendResultsTo.yourself"].UnionTag);

        var ret = rpc["Return"];
        AssertStruct(ret, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers);
        Assert.Equal(RpcSchema.Return.ReleaseParamCaps, ret["releaseParamCaps"].BitStart);
        Assert.Equal(RpcSchema.Return.Which * 16, ret.UnionTagBits[string.Empty]);
        Assert.Equal(RpcSchema.Return.Body, ret["results"].PointerIndex);
        Assert.Equal(RpcSchema.Return.Body, ret["exception"].PointerIndex);
        Assert.Equal(RpcSchema.Return.TakeFromOtherQuestion, ret["takeFromOtherQuestion"].Offset);
        Assert.Equal(RpcSchema.Return.Canceled, ret["canceled"].UnionTag);
        Assert.Equal(RpcSchema.Return.ResultsSentElsewhere, ret["resultsSentElsewhere"].UnionTag);
        Assert.Equal(RpcSchema.Return.TakeFromOther, ret["takeFromOtherQuestion"].UnionTag);

        Assert.Equal(RpcSchema.Finish.ReleaseResultCaps, rpc["Finish"]["releaseResultCaps"].BitStart);
        Assert.Equal(RpcSchema.Resolve.Which * 16, rpc["Resolve"].UnionTagBits[string.Empty]);
        Assert.Equal(RpcSchema.Release.ReferenceCount, rpc["Release"]["referenceCount"].Offset);
        Assert.Equal(RpcSchema.Disembargo.Which * 16, rpc["Disembargo"].UnionTagBits["context"]);
        Assert.Equal(RpcSchema.Disembargo.EmbargoId, rpc["Disembargo"]["context.receiverLoopback"].Offset);
        Assert.Equal(RpcSchema.MessageTarget.Which * 16, rpc["MessageTarget"].UnionTagBits[string.Empty]);
        Assert.Equal(RpcSchema.Payload.CapTable, rpc["Payload"]["capTable"].PointerIndex);

        var descriptor = rpc["CapDescriptor"];
        AssertStruct(descriptor, RpcSchema.CapDescriptor.DataWords, RpcSchema.CapDescriptor.Pointers);
        Assert.Equal(RpcSchema.CapDescriptor.Which * 16, descriptor.UnionTagBits[string.Empty]);
        Assert.Equal(RpcSchema.CapDescriptor.Id, descriptor["senderHosted"].Offset);
        Assert.Equal(RpcSchema.CapDescriptor.Id, descriptor["senderPromise"].Offset);
        Assert.Equal(RpcSchema.CapDescriptor.Id, descriptor["receiverHosted"].Offset);
        Assert.Equal(RpcSchema.CapDescriptor.AttachedFd, descriptor["attachedFd"].Offset);

        Assert.Equal(RpcSchema.Op.GetPointerField, rpc["Op"]["getPointerField"].Offset);
        Assert.Equal(RpcSchema.ThirdPartyCapDescriptor.VineId, rpc["ThirdPartyCapDescriptor"]["vineId"].Offset);
        Assert.Equal(RpcSchema.Exception.Type, rpc["Exception"]["type"].Offset);
        Assert.Equal(RpcSchema.Exception.Trace, rpc["Exception"]["trace"].PointerIndex);
    }

    private static void AssertStruct(CompiledStruct compiled, ushort dataWords, ushort pointers)
    {
        Assert.Equal(dataWords * 8, compiled.DataBytes);
        Assert.Equal(pointers, compiled.Pointers);
    }
}
