using T = RpcGen.Capnp.CapnpFieldType;

namespace RpcGen.Capnp.Tests.Layout;

/// <summary>
/// Random struct shapes (fields of every kind in random ordinal order, groups, named and unnamed
/// unions, unions in unions) laid out here and by <c>capnp compile</c>: every offset must agree, and
/// a shape the compiler refuses (capnp issue 344) must be refused here too.
/// </summary>
public sealed class RandomLayoutTests
{
    private const ulong FileId = 0xf1e2d3c4b5a69788;

    private static readonly CapnpFieldType[] Types =
    [
        T.Void, T.Bool, T.Bool, T.Int8, T.UInt8, T.Int16, T.UInt16, T.EnumNamed("Color"), T.Int32, T.UInt32, T.Float32, T.Int64, T.UInt64, T.Float64,
        T.Text, T.Data, T.ListOf(T.Int32), T.ListOf(T.StructNamed("Leaf")), T.AnyPointer, T.StructNamed("Leaf"),
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_shapes_match_the_compiler(int seed)
    {
        var random = new Random(seed);
        var accepted = new List<(StructShape Shape, StructLayout Layout)>();
        var refused = new List<StructShape>();
        for (var i = 0; i < 60; i++)
        {
            var shape = RandomShape(random, $"S{i}");
            try
            {
                accepted.Add((shape, CapnpLayout.Compute(shape)));
            }
            catch (CapnpLayoutException)
            {
                refused.Add(shape);
            }
        }

        var leaf = new StructShape("Leaf", [new FieldShape("v", 0, T.UInt8)]);
        var enums = new[] { new EnumShape("Color", ["red", "green"]) };
        var compiled = await LayoutTests.CompileAsync(CapnpSchemaWriter.Write(FileId, accepted.Select(a => a.Shape).Append(leaf), enums));
        foreach (var (shape, layout) in accepted)
        {
            LayoutAssert.SameAsCompiler(compiled[shape.Name], layout);
        }

        foreach (var shape in refused)
        {
            var result = await LayoutTests.CompileRawAsync(CapnpSchemaWriter.Write(FileId, [shape, leaf], enums));
            Assert.True(result.ExitCode != 0 && result.Stderr.Contains("344", StringComparison.Ordinal), $"{shape.Name} was refused here but not by the compiler");
        }

        Assert.True(accepted.Count > 40, $"only {accepted.Count} of 60 shapes were accepted");
    }

    private static StructShape RandomShape(Random random, string name)
    {
        var builder = new ShapeBuilder(random);
        var members = builder.Members(depth: 0, allowUnnamedUnion: true, min: 1);

        // Ordinals 0..n-1 in a random order over the fields, so later fields fill earlier holes.
        var ordinals = Enumerable.Range(0, builder.FieldCount).OrderBy(_ => random.Next()).ToArray();
        var next = 0;
        return new StructShape(name, Renumber(members, ordinals, ref next));
    }

    private static List<StructMember> Renumber(IReadOnlyList<StructMember> members, int[] ordinals, ref int next)
    {
        var result = new List<StructMember>();
        foreach (var member in members)
        {
            switch (member)
            {
                case FieldShape f:
                    result.Add(f with { Ordinal = ordinals[next++] });
                    break;
                case GroupShape g:
                    result.Add(g with { Members = Renumber(g.Members, ordinals, ref next) });
                    break;
                case UnionShape u:
                    result.Add(u with { Members = Renumber(u.Members, ordinals, ref next) });
                    break;
            }
        }

        return result;
    }

    private sealed class ShapeBuilder(Random random)
    {
        private int _names;

        public int FieldCount { get; private set; }

        public List<StructMember> Members(int depth, bool allowUnnamedUnion, int min)
        {
            var members = new List<StructMember>();
            var count = random.Next(min, depth == 0 ? 7 : 4);
            for (var i = 0; i < count; i++)
            {
                var roll = random.Next(100);
                if (depth < 3 && roll < 15)
                {
                    members.Add(new GroupShape(Name("g"), Members(depth + 1, allowUnnamedUnion: true, min: 1)));
                }
                else if (depth < 3 && roll < 32)
                {
                    var unnamed = allowUnnamedUnion && random.Next(2) == 0;
                    allowUnnamedUnion &= !unnamed;
                    members.Add(new UnionShape(unnamed ? string.Empty : Name("u"), UnionMembers(depth + 1)));
                }
                else
                {
                    members.Add(Field());
                }
            }

            return members;
        }

        private List<StructMember> UnionMembers(int depth)
        {
            var members = new List<StructMember>();
            var count = random.Next(2, 5);
            for (var i = 0; i < count; i++)
            {
                var roll = random.Next(100);
                if (depth < 3 && roll < 15)
                {
                    members.Add(new GroupShape(Name("g"), Members(depth + 1, allowUnnamedUnion: true, min: 1)));
                }
                else if (depth < 3 && roll < 30)
                {
                    members.Add(new UnionShape(Name("u"), UnionMembers(depth + 1)));
                }
                else
                {
                    members.Add(Field());
                }
            }

            return members;
        }

        private FieldShape Field()
        {
            FieldCount++;
            return new FieldShape(Name("f"), -1, Types[random.Next(Types.Length)]);
        }

        private string Name(string prefix) => prefix + _names++;
    }
}
