using RpcGen.Capnp;
using RpcGen.Fuzz.Seeds;

namespace RpcGen.Fuzz.Harnesses;

/// <summary>
/// Cap'n Proto decoding: the segment table (framed or packed, the first input byte chooses), then a
/// walk of every pointer reachable from the root (structs, lists of every element size, text, data,
/// capabilities, far pointers), then canonicalisation of the root, which walks it again by other
/// rules. Documented rejection: <see cref="CapnpDecodeException"/>. The traversal limit is small
/// here, so an amplification the limit fails to stop shows as a hang or an allocation finding.
/// </summary>
internal sealed class CapnpMessageHarness : FuzzHarness
{
    private const int MaxWalkDepth = 80;

    // Created on first use: nothing from an instrumented assembly may run before the libFuzzer loop starts.
    private CapnpReaderOptions? _options;

    // Capability pointers the walk of the current message met.
    private int _capabilities;

    public override string Name => "capnp-message";

    protected override void Parse(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var options = _options ??= new() { TraversalLimitInWords = 64 * 1024, NestingLimit = 64, MaxSegments = 64 };
        var packed = (input[0] & 1) != 0;
        var bytes = input[1..].ToArray();
        var offset = 0;
        try
        {
            // A stream of messages, as a connection reads them, until the bytes run out.
            while (offset < bytes.Length)
            {
                var consumed = 0;
                var message = packed
                    ? CapnpFraming.ReadPacked(bytes.AsSpan(offset), options, out consumed)
                    : CapnpFraming.Read(bytes.AsMemory(offset), options, out consumed);
                FuzzCheck.That(consumed > 0 && consumed <= bytes.Length - offset, "a message consumes bytes it was given");
                offset += consumed;
                _capabilities = 0;
                Walk(message.Root, 0);
                if (_capabilities == 0)
                {
                    // Canonical form is defined only for messages without capabilities (CapnpCanonical's contract).
                    _ = CapnpCanonical.Canonicalize(message.GetRoot());
                }
            }
        }
        catch (CapnpDecodeException)
        {
            // The connection would be aborted with this reason.
        }
    }

    private void Walk(PointerReader pointer, int depth)
    {
        if (depth > MaxWalkDepth)
        {
            return;
        }

        switch (pointer.Kind)
        {
            case PointerKind.Struct:
                WalkStruct(pointer.GetStruct(), depth);
                break;
            case PointerKind.List:
                WalkList(pointer, depth);
                break;
            case PointerKind.Capability:
                _ = pointer.GetCapabilityIndex();
                _capabilities++;
                break;
        }
    }

    private void WalkStruct(StructReader value, int depth)
    {
        for (var word = 0; word < value.DataWords; word++)
        {
            _ = value.ReadUInt64(word);
        }

        for (var i = 0; i < value.PointerCount; i++)
        {
            Walk(value.GetPointer(i), depth + 1);
        }
    }

    private void WalkList(PointerReader pointer, int depth)
    {
        // An Empty expectation accepts a list of any element size, which the walk then follows.
        var list = pointer.GetList(ElementSize.Empty);
        switch (list.ElementSize)
        {
            case ElementSize.Byte:
                _ = pointer.GetData();
                if (list.Count > 0 && list.GetUInt8(list.Count - 1) == 0)
                {
                    _ = pointer.GetText();
                }

                break;
            case ElementSize.Pointer:
                for (var i = 0; i < list.Count; i++)
                {
                    Walk(list.GetPointer(i), depth + 1);
                }

                break;
            case ElementSize.InlineComposite:
                for (var i = 0; i < list.Count; i++)
                {
                    WalkStruct(list.GetStruct(i), depth + 1);
                }

                break;
            default:
                // Scalar lists: the first and last element show the bounds are right without a loop
                // whose length the input chooses.
                if (list.Count > 0)
                {
                    _ = list.GetUInt64(0);
                    _ = list.GetUInt64(list.Count - 1);
                    _ = list.GetBool(list.Count - 1);
                }

                break;
        }
    }

    public override async Task<IReadOnlyList<FuzzSeed>> CaptureSeedsAsync()
    {
        await using var server = CapnpServer.Listen<IFuzzContract>("tcp://127.0.0.1:0", new FuzzContractService());
        await using var relay = new CapturingRelay(CapturingRelay.EndPointOf(server.Address));
        await using (var connection = await CapnpConnection.ConnectAsync(relay.Address))
        {
            var remote = connection.Bootstrap<IFuzzContract>();
            await remote.StoreAsync(FuzzSamples.Record(2));
            await remote.StoreAsync(FuzzSamples.Record(3));
            try
            {
                await remote.FailAsync("a failure for the capture");
            }
            catch (RpcException)
            {
                // The exception message is what the capture wants.
            }
        }

        await relay.DisposeAsync();
        var toServer = relay.ClientToServer;
        var toClient = relay.ServerToClient;
        // The leading byte chooses the framing; see Parse.
        return
        [
            new FuzzSeed("client-to-server", [0, .. toServer]),
            new FuzzSeed("server-to-client", [0, .. toClient]),
            new FuzzSeed("client-to-server-packed", [1, .. Repack(toServer)]),
        ];
    }

    // The same messages in packed framing: each framed message packed as the packed writer does.
    private static byte[] Repack(byte[] stream)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        var offset = 0;
        while (offset < stream.Length)
        {
            _ = CapnpFraming.Read(stream.AsMemory(offset), null, out var consumed);
            CapnpPacking.Pack(stream.AsSpan(offset, consumed), output);
            offset += consumed;
        }

        return output.WrittenSpan.ToArray();
    }
}
