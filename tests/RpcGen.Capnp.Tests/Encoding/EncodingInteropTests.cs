using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Capnp.Tests.Encoding;

/// <summary>Our encoder and decoder against the <c>capnp</c> tool, in both directions, plain, packed and multi-segment.</summary>
public sealed class EncodingInteropTests
{
    [Fact]
    public async Task Message_built_here_decodes_in_capnp_tool_to_the_same_text_as_its_own_encoding()
    {
        var schema = await AllTypesSample.SchemaAsync();
        using var builder = AllTypesSample.Build(schema);

        var ours = await CapnpTool.DecodeAsync(AllTypesSample.Schema, "AllTypes", CapnpFraming.ToArray(builder));
        var reference = await CapnpTool.DecodeAsync(AllTypesSample.Schema, "AllTypes", await CapnpTool.EncodeAsync(AllTypesSample.Schema, "AllTypes", AllTypesSample.Text));

        Assert.Equal(reference, ours);
        Assert.Contains("textField = \"héllo ☃\"", ours);
    }

    [Fact]
    public async Task Message_encoded_by_capnp_tool_reads_here()
    {
        var schema = await AllTypesSample.SchemaAsync();
        var bytes = await CapnpTool.EncodeAsync(AllTypesSample.Schema, "AllTypes", AllTypesSample.Text);

        var message = CapnpFraming.Read(bytes, null, out var consumed);

        Assert.Equal(bytes.Length, consumed);
        AllTypesSample.AssertMatches(message.GetRoot(), schema);
    }

    [Fact]
    public async Task Packed_message_built_here_decodes_in_capnp_tool()
    {
        var schema = await AllTypesSample.SchemaAsync();
        using var builder = AllTypesSample.Build(schema);

        var ours = await CapnpTool.DecodeAsync(AllTypesSample.Schema, "AllTypes", CapnpFraming.ToPackedArray(builder), packed: true);
        var plain = await CapnpTool.DecodeAsync(AllTypesSample.Schema, "AllTypes", CapnpFraming.ToArray(builder));

        Assert.Equal(plain, ours);
    }

    [Fact]
    public async Task Packed_message_encoded_by_capnp_tool_reads_here()
    {
        var schema = await AllTypesSample.SchemaAsync();
        var packed = await CapnpTool.EncodeAsync(AllTypesSample.Schema, "AllTypes", AllTypesSample.Text, packed: true);

        var message = CapnpFraming.ReadPacked(packed, null, out var consumed);

        Assert.Equal(packed.Length, consumed);
        AllTypesSample.AssertMatches(message.GetRoot(), schema);
    }

    [Fact]
    public async Task Our_packing_of_capnp_tool_output_is_byte_identical_to_its_own_packing()
    {
        var plain = await CapnpTool.EncodeAsync(AllTypesSample.Schema, "AllTypes", AllTypesSample.Text);
        var packed = await CapnpTool.EncodeAsync(AllTypesSample.Schema, "AllTypes", AllTypesSample.Text, packed: true);

        Assert.Equal(packed, CapnpPacking.Pack(plain));
    }

    [Fact]
    public async Task Multi_segment_message_from_capnp_tool_reads_here_through_far_pointers()
    {
        var schema = await AllTypesSample.SchemaAsync();
        var bytes = await CapnpTool.EncodeAsync(AllTypesSample.Schema, "AllTypes", AllTypesSample.Text, segmentSize: 4);

        var message = CapnpFraming.Read(bytes, null, out _);

        Assert.True(message.SegmentCount > 5, $"expected many segments, got {message.SegmentCount}");
        AllTypesSample.AssertMatches(message.GetRoot(), schema);
    }

    [Fact]
    public async Task Multi_segment_message_built_here_decodes_in_capnp_tool()
    {
        var schema = await AllTypesSample.SchemaAsync();
        using var builder = AllTypesSample.Build(schema, firstSegmentWords: 4, maxSegmentWords: 4);
        using var single = AllTypesSample.Build(schema);

        Assert.True(builder.SegmentCount > 5);
        Assert.Equal(
            await CapnpTool.DecodeAsync(AllTypesSample.Schema, "AllTypes", CapnpFraming.ToArray(single)),
            await CapnpTool.DecodeAsync(AllTypesSample.Schema, "AllTypes", CapnpFraming.ToArray(builder)));
    }

    [Fact]
    public async Task Canonical_form_matches_capnp_tool_for_a_multi_segment_message()
    {
        var schema = await AllTypesSample.SchemaAsync();
        using var builder = AllTypesSample.Build(schema, firstSegmentWords: 8, maxSegmentWords: 8);
        var framed = CapnpFraming.ToArray(builder);

        var ours = CapnpCanonical.Canonicalize(CapnpFraming.Read(framed, null, out _).GetRoot());

        Assert.Equal(await CapnpTool.CanonicalizeAsync(framed), ours);
    }
}
