using MessagePack;

namespace RpcGen.Benchmarks.Contracts;

/// <summary>
/// The ~600-byte DTO of the comparison: the shape of the gRPC/rpcx <c>BenchmarkMessage</c>, many fields of
/// mixed types (strings, 32/64-bit integers, booleans, a repeated integer and a double).
/// </summary>
[MessagePackObject]
public sealed class BenchmarkMessage
{
    [Key(0)]
    public string Field1 { get; set; } = string.Empty;

    [Key(1)]
    public string Field9 { get; set; } = string.Empty;

    [Key(2)]
    public string Field18 { get; set; } = string.Empty;

    [Key(3)]
    public bool Field80 { get; set; }

    [Key(4)]
    public bool Field81 { get; set; }

    [Key(5)]
    public int Field2 { get; set; }

    [Key(6)]
    public int Field3 { get; set; }

    [Key(7)]
    public int Field280 { get; set; }

    [Key(8)]
    public int Field6 { get; set; }

    [Key(9)]
    public long Field22 { get; set; }

    [Key(10)]
    public string Field4 { get; set; } = string.Empty;

    [Key(11)]
    public ulong[] Field5 { get; set; } = [];

    [Key(12)]
    public bool Field59 { get; set; }

    [Key(13)]
    public string Field7 { get; set; } = string.Empty;

    [Key(14)]
    public int Field16 { get; set; }

    [Key(15)]
    public int Field130 { get; set; }

    [Key(16)]
    public bool Field12 { get; set; }

    [Key(17)]
    public bool Field17 { get; set; }

    [Key(18)]
    public bool Field13 { get; set; }

    [Key(19)]
    public bool Field14 { get; set; }

    [Key(20)]
    public int Field104 { get; set; }

    [Key(21)]
    public int Field100 { get; set; }

    [Key(22)]
    public int Field101 { get; set; }

    [Key(23)]
    public string Field102 { get; set; } = string.Empty;

    [Key(24)]
    public string Field103 { get; set; } = string.Empty;

    [Key(25)]
    public int Field29 { get; set; }

    [Key(26)]
    public bool Field30 { get; set; }

    [Key(27)]
    public int Field60 { get; set; }

    [Key(28)]
    public int Field271 { get; set; }

    [Key(29)]
    public int Field272 { get; set; }

    [Key(30)]
    public int Field150 { get; set; }

    [Key(31)]
    public int Field23 { get; set; }

    [Key(32)]
    public bool Field24 { get; set; }

    [Key(33)]
    public int Field25 { get; set; }

    [Key(34)]
    public bool Field78 { get; set; }

    [Key(35)]
    public int Field67 { get; set; }

    [Key(36)]
    public int Field68 { get; set; }

    [Key(37)]
    public int Field128 { get; set; }

    [Key(38)]
    public string Field129 { get; set; } = string.Empty;

    [Key(39)]
    public int Field131 { get; set; }

    [Key(40)]
    public double Ratio { get; set; }
}
