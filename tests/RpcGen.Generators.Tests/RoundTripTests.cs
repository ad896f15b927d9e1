using RpcGen.Generators.Tests.Contracts;
using RpcGen.Generators.Tests.Infrastructure;
using RpcGen.Serialization;

namespace RpcGen.Generators.Tests;

/// <summary>Values of every shape survive a trip through the generated formatters.</summary>
public class RoundTripTests
{
    private static Everything SampleEverything() => new()
    {
        Flag = true,
        Byte = 200,
        SByte = -100,
        Short = -30000,
        UShort = 60000,
        Int = int.MinValue,
        UInt = uint.MaxValue,
        Long = long.MinValue,
        ULong = ulong.MaxValue,
        Float = 1.5f,
        Double = Math.PI,
        Decimal = 79228162514264337593543950335m,
        Char = 'é',
        Text = "héllo",
        MaybeText = null,
        Bytes = [1, 2, 3],
        When = new DateTime(2024, 2, 29, 12, 30, 15, DateTimeKind.Utc),
        WhenOffset = new DateTimeOffset(2024, 2, 29, 12, 30, 15, TimeSpan.FromHours(-5)),
        Duration = TimeSpan.FromMilliseconds(1234.5),
        Id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
        Color = Color.Blue,
        Level = Level.Low,
        MaybeColor = Color.Green,
        MaybeInt = null,
        Point = new Point { X = -1, Y = 2 },
        MaybePoint = new Point { X = 3, Y = 4 },
        Price = new Money(12.34m, "EUR"),
        Owner = new Person("Ada", 36),
        Numbers = [1, -2, 3],
        Jagged = [["a"], [], ["b", "c"]],
        People = [new Person("Bob", 40), new Person("Eve", 29)],
        Tags = ["x", "y"],
        Scores = [1, null, 3],
        Longs = [long.MaxValue],
        Colors = [Color.Red, Color.Blue],
        Ids = [Guid.Empty],
        Counts = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 },
        ById = new Dictionary<int, Person> { [7] = new Person("Zed", 1) },
        Labels = new Dictionary<Guid, string?> { [Guid.Empty] = null },
        Favorite = new Circle("c", 2.5),
        Nested = new Outer.Nested { Value = "inner" },
    };

    [Fact]
    public void EveryMemberShapeRoundTrips()
    {
        var value = SampleEverything();

        var back = Wire.RoundTrip(value);

        Assert.Equivalent(value, back, strict: true);
        Assert.IsType<List<string>>(back.Tags);
        Assert.IsType<Dictionary<int, Person>>(back.ById);
    }

    [Fact]
    public void NullReferencesTravelAsNil()
    {
        Assert.Null(Wire.RoundTrip<Everything>(null!));
        Assert.Equal([0xC0], Wire.Write<Person>(null!));

        var value = SampleEverything();
        value.Owner = null;
        value.Bytes = null;
        value.Favorite = null;
        value.MaybePoint = null;
        var back = Wire.RoundTrip(value);
        Assert.Null(back.Owner);
        Assert.Null(back.Bytes);
        Assert.Null(back.Favorite);
        Assert.Null(back.MaybePoint);
    }

    [Fact]
    public void RecordIsAnArrayOfItsMembersInDeclarationOrder()
    {
        // [ "Ada", 36 ]
        Assert.Equal([0x92, 0xA3, (byte)'A', (byte)'d', (byte)'a', 36], Wire.Write(new Person("Ada", 36)));
        Assert.Equal(new Person("Ada", 36), Wire.RoundTrip(new Person("Ada", 36)));
    }

    [Fact]
    public void EnumIsItsUnderlyingInteger()
    {
        Assert.Equal([0x02], Wire.Write(Color.Blue));
        Assert.Equal(Level.Low, Wire.RoundTrip(Level.Low));
        Assert.Equal(Level.High, Wire.RoundTrip(Level.High));
    }

    [Fact]
    public void StructsRoundTrip()
    {
        Assert.Equal(new Point { X = 5, Y = -6 }, Wire.RoundTrip(new Point { X = 5, Y = -6 }));
        Assert.Equal(new Money(1.1m, "USD"), Wire.RoundTrip(new Money(1.1m, "USD")));
    }

    [Fact]
    public void PinnedMembersKeepTheirPositionsAndGapsAreNil()
    {
        var value = new Pinned { First = 1, Third = "three", Appended = 4, NotSent = 99 };

        var bytes = Wire.Write(value);

        // [1, nil, "three", 4]: First pinned at 0, Third at 2, Appended follows the highest pin.
        Assert.Equal([0x94, 0x01, 0xC0, 0xA5, .. "three"u8.ToArray(), 0x04], bytes);
        var back = Wire.Read<Pinned>(bytes);
        Assert.Equal((1, "three", 4, 0), (back.First, back.Third, back.Appended, back.NotSent));
    }

    [Fact]
    public void PolymorphicValuesKeepTheirRuntimeType()
    {
        Shape circle = new Circle("round", 1.5);
        Shape square = new Square("box", 2);

        Assert.Equal(circle, Wire.RoundTrip(circle));
        Assert.Equal(square, Wire.RoundTrip(square));

        // [1, ["round", 1.5]]
        var bytes = Wire.Write(circle);
        Assert.Equal(0x92, bytes[0]);
        Assert.Equal(0x01, bytes[1]);
    }

    [Fact]
    public void ConcreteBaseTravelsWithTagMinusOne()
    {
        Animal[] animals = [new Animal { Name = "generic" }, new Dog { Name = "Rex", GoodBoy = true }];

        var back = Wire.RoundTrip(animals);

        Assert.IsType<Animal>(back[0], exactMatch: true);
        Assert.Equal("generic", back[0].Name);
        var dog = Assert.IsType<Dog>(back[1]);
        Assert.Equal(("Rex", true), (dog.Name, dog.GoodBoy));
        Assert.Equal([0x92, 0xFF], Wire.Write(animals[0])[..2]);
    }

    [Fact]
    public void UnlistedSubtypeFailsToWrite()
    {
        var error = Assert.Throws<RpcException>(() => Wire.Write<Animal>(new Cat { Name = "Tom" }));

        Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
        Assert.Contains("Cat", error.Message);
    }

    [Fact]
    public void InterfaceBaseCarriesStructAndClassSubtypes()
    {
        Assert.Equal(new Started(42), Wire.RoundTrip<IEvent>(new Started(42)));
        var stopped = Assert.IsType<Stopped>(Wire.RoundTrip<IEvent>(new Stopped { Reason = "done" }));
        Assert.Equal("done", stopped.Reason);
    }

    [Fact]
    public void GenericDtosGetOneFormatterPerClosedType()
    {
        var people = new Page<Person> { Items = [new Person("A", 1)], NextToken = "next" };
        var ids = new Page<int> { Items = [1, 2, 3] };

        var backPeople = Wire.RoundTrip(people);
        var backIds = Wire.RoundTrip(ids);

        Assert.Equal(people.Items, backPeople.Items);
        Assert.Equal("next", backPeople.NextToken);
        Assert.Equal([1, 2, 3], backIds.Items);
        Assert.Null(backIds.NextToken);
    }

    [Fact]
    public void RecursiveDtosRoundTrip()
    {
        var tree = new Tree { Value = 1, Children = [new Tree { Value = 2, Children = [new Tree { Value = 3 }] }, new Tree { Value = 4 }] };

        var back = Wire.RoundTrip(tree);

        Assert.Equivalent(tree, back, strict: true);
    }

    [Fact]
    public void NestedDtoTypesRoundTrip()
    {
        Assert.Equal("x", Wire.RoundTrip(new Outer.Nested { Value = "x" }).Value);
    }

    [Fact]
    public void RequestEnvelopeOfSeveralParametersRoundTrips()
    {
        var method = CatalogRpc.PageAsync;
        var request = new CatalogRpc.PageAsyncRequest(new Page<Person> { Items = [new Person("P", 2)] }, null);

        var back = RpcSerializer.Deserialize(RpcSerializer.Serialize(request, method.RequestFormatter), method.RequestFormatter);

        Assert.Equal(request.Page.Items, back.Page.Items);
        Assert.Null(back.Ids);
    }
}
