using RpcGen.Serialization;

namespace RpcGen.Generators.Tests.Infrastructure;

/// <summary>Serializes through the registered formatters, as the transports do.</summary>
internal static class Wire
{
    public static byte[] Write<T>(T value) => RpcSerializer.Serialize(value, RpcFormatter<T>.Instance);

    public static T Read<T>(byte[] payload) => RpcSerializer.Deserialize(payload, RpcFormatter<T>.Instance);

    public static T RoundTrip<T>(T value) => Read<T>(Write(value));
}
