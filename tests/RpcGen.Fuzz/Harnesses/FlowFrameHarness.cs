using System.Buffers;
using RpcGen.Fuzz.Seeds;
using RpcGen.Transport.Flow;

namespace RpcGen.Fuzz.Harnesses;

/// <summary>
/// The flow transport's reader: <see cref="FlowFrames.TryParse"/> over a stream of frames (cut into
/// two segments where the first input byte says), then each payload the way the connection reads
/// it: setup, release pairs, reset and teardown reasons. Documented rejections:
/// <see cref="FlowParseStatus.Invalid"/>, a setup error string, <see cref="FlowException"/>.
/// </summary>
internal sealed class FlowFrameHarness : FuzzHarness
{
    private const int MaxFrameBytes = 64 * 1024;

    public override string Name => "flow-frames";

    protected override void Parse(ReadOnlySpan<byte> input)
    {
        var buffer = StreamOf(input);
        while (!buffer.IsEmpty)
        {
            var status = FlowFrames.TryParse(buffer, MaxFrameBytes, out var header, out var payload, out var consumed, out var error);
            if (status != FlowParseStatus.Frame)
            {
                FuzzCheck.That(status == FlowParseStatus.Incomplete || error is not null, "an invalid frame comes with a reason");
                return;
            }

            FuzzCheck.That(payload.Length == header.Length && header.Length <= MaxFrameBytes, "the payload is the declared length, within the limit");
            try
            {
                ReadPayload(header, payload);
            }
            catch (FlowException)
            {
                return;
            }

            buffer = buffer.Slice(consumed);
        }
    }

    private static void ReadPayload(in FlowFrameHeader header, in ReadOnlySequence<byte> payload)
    {
        switch (header.Kind)
        {
            case FlowFrameKind.Setup:
                var setup = FlowFrames.ReadSetup(payload, out var error);
                FuzzCheck.That((setup is null) != (error is null), "a setup reads as a value or as a reason, not both");
                break;
            case FlowFrameKind.Release:
                for (var i = 0; i < payload.Length / 8; i++)
                {
                    _ = FlowFrames.ReadRelease(payload, i);
                }

                break;
            case FlowFrameKind.Reset:
                _ = FlowFrames.ReadText(payload);
                break;
            case FlowFrameKind.TearDown:
                _ = FlowFrames.ReadTearDown(payload);
                break;
        }
    }

    public override async Task<IReadOnlyList<FuzzSeed>> CaptureSeedsAsync()
    {
        await using var listener = new FlowManager();
        var address = await listener.ListenAsync("tcp://127.0.0.1:0");
        await using var relay = new CapturingRelay(CapturingRelay.EndPointOf(address));
        await using (var dialer = new FlowManager())
        {
            await using var flow = await dialer.DialAsync(relay.Address);
            await flow.WriteMessageAsync("hello over a flow"u8.ToArray());
            await using var accepted = await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            _ = await accepted.ReadMessageAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            await accepted.WriteMessageAsync(new byte[3000]);
            _ = await flow.ReadMessageAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            flow.Reset("done with the capture");
        }

        await relay.DisposeAsync();
        // The leading 0 is the segment cut (none); see Parse.
        return
        [
            new FuzzSeed("dialer-to-listener", [0, .. relay.ClientToServer]),
            new FuzzSeed("listener-to-dialer", [0, .. relay.ServerToClient]),
            new FuzzSeed("teardown-and-release", [0, .. FlowFrames.BuildTearDown(FlowErrorCode.Aborted, "bye"), .. FlowFrames.Build(FlowFrameKind.Release, 0, new byte[16])]),
        ];
    }
}
