using System.Collections;
using System.Collections.Immutable;
using System.Numerics;

namespace RpcGen.Fuzz.Seeds;

/// <summary>Values for the seed captures: every member set, and text long enough to be compressed.</summary>
internal static class FuzzSamples
{
    public static FuzzRecord Record(int id) => new(
        id,
        $"record {id} " + new string('x', 40),
        [1, 2, 3, (byte)id],
        ["alpha", "beta", "gamma"],
        (FuzzColor)(id % 3),
        id % 2 == 0 ? new FuzzChild(id * 1.5, true) : null,
        id * 1_000_000_007L);

    public static FuzzEnvelope Envelope() => new(
        Int: -42,
        ULong: ulong.MaxValue - 7,
        MaybeLong: 1234567890123,
        Char: 'λ',
        Half: (Half)3.5,
        Decimal: 79_228.625m,
        Text: string.Concat(Enumerable.Repeat("compressible text ", 80)),
        Bytes: [0, 1, 2, 253, 254, 255],
        Memory: new byte[] { 9, 8, 7 },
        When: new DateTime(2026, 12, 6, 1, 2, 3, DateTimeKind.Utc),
        WhenOffset: new DateTimeOffset(2026, 12, 6, 1, 2, 3, TimeSpan.FromHours(2)),
        Duration: TimeSpan.FromMilliseconds(1500),
        Date: new DateOnly(2026, 12, 6),
        TimeOfDay: new TimeOnly(23, 59, 58),
        Guid: new Guid("0f8fad5b-d9cb-469f-a165-70867728950e"),
        Big128: Int128.MaxValue / 3,
        BigInteger: BigInteger.Pow(7, 60),
        Uri: new Uri("https://example.test/a?b=c"),
        Version: new Version(1, 2, 3, 4),
        Bits: new BitArray([true, false, true, true]),
        Color: FuzzColor.Blue,
        Point: new FuzzPoint { X = 3, Y = -4 },
        Records: [Record(1), Record(2)],
        Numbers: [1, -1, int.MaxValue, int.MinValue],
        Names: ["one", "two"],
        Counts: new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 },
        Sorted: new SortedDictionary<int, string?> { [1] = "one", [2] = null },
        Set: [5, 6, 7],
        Queue: new Queue<FuzzColor>([FuzzColor.Red, FuzzColor.Green]),
        Immutable: [10, 20],
        ImmutableMap: ImmutableDictionary<string, FuzzChild>.Empty.Add("c", new FuzzChild(0.25, false)),
        Pair: (7, "seven"),
        Entry: new KeyValuePair<string, double>("pi", Math.PI),
        Shape: new FuzzCircle(2),
        Shapes: [new FuzzSquare(3, "sq"), new FuzzCircle(1), new FuzzSquare(4, null)],
        Nested: [[1, 2], [], [3]]);
}

/// <summary>The server side of the seed captures.</summary>
internal sealed class FuzzContractService : IFuzzContract
{
    public Task<FuzzEnvelope> EchoAsync(FuzzEnvelope envelope) => Task.FromResult(envelope);

    public Task<FuzzRecord> StoreAsync(FuzzRecord record) => Task.FromResult(record with { Revision = record.Revision + 1 });

    public Task FailAsync(string message) => throw new InvalidOperationException(message);
}
