using MessagePack;

namespace RpcGen.Benchmarks.Contracts;

/// <summary>One item of the server-stream workload.</summary>
[MessagePackObject]
public sealed class StreamItem
{
    [Key(0)]
    public int Sequence { get; set; }

    [Key(1)]
    public long Value { get; set; }
}
