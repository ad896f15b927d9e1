using MessagePack;

namespace RpcGen.Benchmarks.Contracts;

/// <summary>The small DTO of the foundation benchmark: a handful of scalar fields and a short string.</summary>
/// <remarks>
/// The <c>[Key]</c> positions follow declaration order, which is also how RpcGen lays out a DTO, so
/// StreamJsonRpc, RpcGen and the hand-written raw codec put the same MessagePack array on the wire.
/// </remarks>
[MessagePackObject]
public sealed class SmallMessage
{
    [Key(0)]
    public int Id { get; set; }

    [Key(1)]
    public string Name { get; set; } = string.Empty;

    [Key(2)]
    public double Value { get; set; }

    [Key(3)]
    public long Timestamp { get; set; }

    [Key(4)]
    public bool Flag { get; set; }
}
