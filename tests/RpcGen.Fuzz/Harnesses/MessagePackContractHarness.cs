using RpcGen.Fuzz.Seeds;
using RpcGen.Serialization;

namespace RpcGen.Fuzz.Harnesses;

/// <summary>
/// The generated MessagePack formatters: a <see cref="FuzzEnvelope"/> (one member of each supported
/// shape) read through the public entry point, <see cref="RpcSerializer.Deserialize{T}(ReadOnlyMemory{byte}, IRpcFormatter{T})"/>.
/// Documented rejection: <see cref="RpcException"/> (<see cref="RpcStatusCode.InvalidPayload"/>).
/// What it accepts must write back and read again: a value the reader built but the writer cannot
/// carry would fail a later call instead of this one.
/// </summary>
internal sealed class MessagePackContractHarness : FuzzHarness
{
    public override string Name => "msgpack-contract";

    protected override void Parse(ReadOnlySpan<byte> input)
    {
        var formatter = RpcFormatter<FuzzEnvelope>.Instance;
        FuzzEnvelope value;
        try
        {
            value = RpcSerializer.Deserialize(input.ToArray().AsMemory(), formatter);
        }
        catch (RpcException ex)
        {
            FuzzCheck.That(ex.StatusCode == RpcStatusCode.InvalidPayload, "a rejected payload is InvalidPayload");
            return;
        }

        var again = RpcSerializer.Serialize(value, formatter);
        _ = RpcSerializer.Deserialize(again.AsMemory(), formatter);
    }

    public override Task<IReadOnlyList<FuzzSeed>> CaptureSeedsAsync()
    {
        var formatter = RpcFormatter<FuzzEnvelope>.Instance;
        var sparse = FuzzSamples.Envelope() with { Text = null, Bytes = null, Records = [], Counts = null, Shape = null, Shapes = null, Nested = null, Immutable = default };
        IReadOnlyList<FuzzSeed> seeds =
        [
            new FuzzSeed("envelope", RpcSerializer.Serialize(FuzzSamples.Envelope(), formatter)),
            new FuzzSeed("sparse-envelope", RpcSerializer.Serialize(sparse, formatter)),
        ];
        return Task.FromResult(seeds);
    }
}
