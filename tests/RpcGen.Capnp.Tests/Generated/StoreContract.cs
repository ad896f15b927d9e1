#pragma warning disable RPC0022 // the decimal and two-way streaming methods are left off the Cap'n Proto binding on purpose: the tests check that they fail with Unimplemented

namespace RpcGen.Capnp.Tests.Generated;

/// <summary>A contract exercising every kind of field and call the Cap'n Proto binding supports.</summary>
[RpcService(0xd1f0_5e7a_0000_0001)]
public interface IStore
{
    Task<Sample> EchoAsync(Sample sample);

    Task<int> CountAsync(IReadOnlyList<Sample> samples, CancellationToken cancellationToken);

    /// <summary>A child store, usable at once: calls on it are pipelined.</summary>
    IStore Child(string name);

    Task<IStore> ChildAsync(string name);

    Task<string> NameAsync();

    /// <summary>Calls <paramref name="visitor"/> back once per name, then returns how many calls it made.</summary>
    Task<int> VisitAsync(IVisitor visitor, string[] names);

    /// <summary>Keeps <paramref name="visitor"/> and calls it from a one-way method.</summary>
    Task HoldAsync(IVisitor visitor);

    [OneWay]
    void Notify(string name);

    Task FailAsync(string message);

    /// <summary>Waits until cancelled; tells <see cref="WhenCancelledAsync"/>.</summary>
    Task WaitAsync(CancellationToken cancellationToken);

    Task<bool> WhenCancelledAsync();
}

[RpcService(0xd1f0_5e7a_0000_0002)]
public interface IVisitor
{
    Task VisitAsync(string name);
}

/// <summary>A service with no method Cap'n Proto can carry: it has a message-transport binding but no Cap'n Proto one.</summary>
[RpcService(0xd1f0_5e7a_0000_0003)]
public interface ITicker
{
    Task<decimal> PriceAsync();
}

/// <summary>One method Cap'n Proto cannot carry (a stream both ways) beside two it can: the binding keeps those two.</summary>
[RpcService]
public interface IQuotes
{
    Task<double> PriceAsync(string symbol);

    IAsyncEnumerable<int> TicksAsync(IAsyncEnumerable<int> counts);

    Task<int> CountAsync();
}

public sealed class QuotesService : IQuotes
{
    public Task<double> PriceAsync(string symbol) => Task.FromResult(symbol.Length * 1.5);

    public async IAsyncEnumerable<int> TicksAsync(IAsyncEnumerable<int> counts)
    {
        await foreach (var count in counts)
        {
            yield return count;
        }
    }

    public Task<int> CountAsync() => Task.FromResult(3);
}

public enum Shade
{
    Light,
    Medium,
    Dark,
}

public sealed record Point(int X, int Y);

[RpcKnownType(typeof(Circle), 0)]
[RpcKnownType(typeof(Box), 1)]
[RpcKnownType(typeof(Nothing), 2)]
public abstract record Shape
{
    public sealed record Circle(double Radius) : Shape;

    public sealed record Box(Point Corner, Point Size) : Shape;

    public sealed record Nothing : Shape;
}

public sealed class Sample
{
    public bool Flag { get; set; }

    public sbyte Tiny { get; set; }

    public byte Octet { get; set; }

    public short Short { get; set; }

    public ushort UShort { get; set; }

    public int Int { get; set; }

    public uint UInt { get; set; }

    public long Long { get; set; }

    public ulong ULong { get; set; }

    public float Single { get; set; }

    public double Double { get; set; }

    public string Text { get; set; } = string.Empty;

    public string? OptionalText { get; set; }

    public byte[] Data { get; set; } = [];

    public Shade Shade { get; set; }

    public int[] Numbers { get; set; } = [];

    public List<string> Names { get; set; } = [];

    public bool[] Bits { get; set; } = [];

    public Point Origin { get; set; } = new(0, 0);

    public Point? OptionalPoint { get; set; }

    public IReadOnlyList<Point> Path { get; set; } = [];

    public Shape[] Shapes { get; set; } = [];

    public List<int[]> Matrix { get; set; } = [];

    public Shade[] Shades { get; set; } = [];
}
