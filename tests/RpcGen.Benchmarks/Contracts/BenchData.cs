namespace RpcGen.Benchmarks.Contracts;

/// <summary>The request values every peer sends, built once so that building them is never measured.</summary>
public static class BenchData
{
    /// <summary>The size of the large unary payload.</summary>
    public const int LargePayloadBytes = 64 * 1024;

    /// <summary>A small DTO.</summary>
    public static SmallMessage CreateSmall() => new()
    {
        Id = 42,
        Name = "small-request",
        Value = 3.25,
        Timestamp = 638_000_000_000_000_000,
        Flag = true,
    };

    /// <summary>A <see cref="BenchmarkMessage"/> whose MessagePack form is about 600 bytes.</summary>
    public static BenchmarkMessage CreateBenchmarkMessage() => new()
    {
        Field1 = Text('a', 62),
        Field9 = Text('b', 62),
        Field18 = Text('c', 62),
        Field80 = true,
        Field81 = false,
        Field2 = 7,
        Field3 = 100_000,
        Field280 = -5,
        Field6 = 65_535,
        Field22 = 1_234_567_890_123,
        Field4 = Text('d', 62),
        Field5 = [1, 1UL << 40, ulong.MaxValue],
        Field59 = true,
        Field7 = Text('e', 62),
        Field16 = 16,
        Field130 = 130,
        Field12 = true,
        Field17 = true,
        Field13 = false,
        Field14 = true,
        Field104 = 104,
        Field100 = 1_000,
        Field101 = 10_100,
        Field102 = Text('f', 62),
        Field103 = Text('g', 62),
        Field29 = 29,
        Field30 = false,
        Field60 = 60,
        Field271 = 271,
        Field272 = 272,
        Field150 = 150_000,
        Field23 = 23,
        Field24 = true,
        Field25 = -25,
        Field78 = true,
        Field67 = 67,
        Field68 = 68,
        Field128 = 128,
        Field129 = Text('h', 62),
        Field131 = 131,
        Ratio = 0.618,
    };

    /// <summary>The 64 KiB payload, filled with a non-repeating pattern so no layer can shortcut it.</summary>
    public static byte[] CreateLargePayload()
    {
        var data = new byte[LargePayloadBytes];
        new Random(1234).NextBytes(data);
        return data;
    }

    /// <summary>One upload chunk.</summary>
    public static byte[] CreateChunk(int size)
    {
        var data = new byte[size];
        new Random(99).NextBytes(data);
        return data;
    }

    private static string Text(char first, int length)
    {
        return string.Create(length, first, static (span, start) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)(start + (i % 20));
            }
        });
    }
}
