using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>Checks that an echoed value came back intact.</summary>
public static class EchoCheck
{
    public static void Small(SmallMessage sent, SmallMessage? received, string peer)
    {
        if (received is null || received.Id != sent.Id || received.Name != sent.Name || received.Value != sent.Value ||
            received.Timestamp != sent.Timestamp || received.Flag != sent.Flag)
        {
            throw new InvalidOperationException($"{peer}: the small DTO did not come back intact.");
        }
    }

    public static void Message(BenchmarkMessage sent, BenchmarkMessage? received, string peer)
    {
        if (received is null || received.Field1 != sent.Field1 || received.Field129 != sent.Field129 || received.Field131 != sent.Field131 ||
            received.Field22 != sent.Field22 || received.Ratio != sent.Ratio || !received.Field5.AsSpan().SequenceEqual(sent.Field5))
        {
            throw new InvalidOperationException($"{peer}: the 600-byte DTO did not come back intact.");
        }
    }

    public static void Bytes(ReadOnlySpan<byte> sent, ReadOnlySpan<byte> received, string peer)
    {
        if (!received.SequenceEqual(sent))
        {
            throw new InvalidOperationException($"{peer}: the 64 KiB payload did not come back intact.");
        }
    }

    public static void Count(long expected, long received, string peer, string what)
    {
        if (expected != received)
        {
            throw new InvalidOperationException($"{peer}: {what} expected {expected}, got {received}.");
        }
    }
}
