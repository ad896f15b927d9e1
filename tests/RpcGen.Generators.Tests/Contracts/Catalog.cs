#pragma warning disable RPC0022 // covers every DTO shape of the message transport, several of which (decimal, dictionaries, Nullable) have no Cap'n Proto form

using RpcGen;

namespace RpcGen.Generators.Tests.Contracts;

/// <summary>A contract whose signatures reach a DTO of every shape the generator supports.</summary>
[RpcService]
public interface ICatalog
{
    Task<Everything> EchoEverythingAsync(Everything value);

    Task<Shape?> EchoShapeAsync(Shape? shape);

    Task<Animal[]> EchoAnimalsAsync(Animal[] animals);

    Task<IEvent> EchoEventAsync(IEvent value);

    Task<Page<Person>> PageAsync(Page<Person> page, Page<int>? ids);

    Task<Tree> EchoTreeAsync(Tree tree);

    Task<Pinned> EchoPinnedAsync(Pinned value);

    Task<Point?> EchoPointAsync(Point? point);

    ValueTask<Dictionary<Color, List<Person?>>> GroupAsync(IReadOnlyDictionary<string, Color> colors);
}

public enum Color : byte
{
    Red,
    Green,
    Blue,
}

public enum Level : long
{
    Low = long.MinValue,
    High = long.MaxValue,
}

public record Person(string Name, int Age);

public struct Point
{
    public int X;
    public int Y;
}

public readonly record struct Money(decimal Amount, string Currency);

/// <summary>A class with a member of every builtin, collection and nullable shape.</summary>
public sealed class Everything
{
    public bool Flag { get; set; }
    public byte Byte { get; set; }
    public sbyte SByte { get; set; }
    public short Short { get; set; }
    public ushort UShort { get; set; }
    public int Int { get; set; }
    public uint UInt { get; set; }
    public long Long { get; set; }
    public ulong ULong { get; set; }
    public float Float { get; set; }
    public double Double { get; set; }
    public decimal Decimal { get; set; }
    public char Char { get; set; }
    public string Text { get; set; } = "";
    public string? MaybeText { get; set; }
    public byte[]? Bytes { get; set; }
    public DateTime When { get; set; }
    public DateTimeOffset WhenOffset { get; set; }
    public TimeSpan Duration { get; set; }
    public Guid Id { get; set; }
    public Color Color { get; set; }
    public Level Level { get; set; }
    public Color? MaybeColor { get; set; }
    public int? MaybeInt { get; set; }
    public Point Point { get; set; }
    public Point? MaybePoint { get; set; }
    public Money Price { get; set; }
    public Person? Owner { get; set; }
    public int[] Numbers { get; set; } = [];
    public string[][] Jagged { get; set; } = [];
    public List<Person> People { get; set; } = [];
    public IReadOnlyList<string> Tags { get; set; } = [];
    public IList<int?> Scores { get; set; } = [];
    public ICollection<long> Longs { get; set; } = [];
    public IReadOnlyCollection<Color> Colors { get; set; } = [];
    public IEnumerable<Guid> Ids { get; set; } = [];
    public Dictionary<string, int> Counts { get; set; } = [];
    public IDictionary<int, Person> ById { get; set; } = new Dictionary<int, Person>();
    public IReadOnlyDictionary<Guid, string?> Labels { get; set; } = new Dictionary<Guid, string?>();
    public Shape? Favorite { get; set; }
    public Outer.Nested Nested { get; set; } = new();
}

public static class Outer
{
    public sealed class Nested
    {
        public string Value { get; set; } = "";
    }
}

[RpcKnownType(typeof(Circle), 1)]
[RpcKnownType(typeof(Square), 2)]
public abstract record Shape(string Name);

public sealed record Circle(string Name, double Radius) : Shape(Name);

public sealed record Square(string Name, double Side) : Shape(Name);

/// <summary>A concrete polymorphic base: instances of the base itself travel with tag -1.</summary>
[RpcKnownType(typeof(Dog), 0)]
public class Animal
{
    public string Name { get; set; } = "";
}

public class Dog : Animal
{
    public bool GoodBoy { get; set; }
}

/// <summary>A subtype nobody listed: sending it must fail rather than travel as an Animal.</summary>
public sealed class Cat : Animal
{
}

[RpcKnownType(typeof(Started), 1)]
[RpcKnownType(typeof(Stopped), 2)]
public interface IEvent;

public readonly record struct Started(long At) : IEvent;

public sealed class Stopped : IEvent
{
    public string? Reason { get; init; }
}

public sealed class Page<T>
{
    public List<T> Items { get; set; } = [];
    public string? NextToken { get; set; }
}

/// <summary>Recursive: a node holds its children.</summary>
public sealed class Tree
{
    public int Value { get; set; }
    public List<Tree> Children { get; set; } = [];
}

public sealed class Pinned
{
    [RpcMember(2)]
    public string Third { get; set; } = "";

    [RpcMember(0)]
    public int First { get; set; }

    public int Appended { get; set; }

    [RpcIgnore]
    public int NotSent { get; set; }
}
