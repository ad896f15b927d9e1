using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Capnp.Tests.Layout;

internal static class LayoutAssert
{
    /// <summary>Every size, offset, pointer index, discriminant and union tag agrees with the compiler's.</summary>
    public static void SameAsCompiler(CompiledStruct compiled, StructLayout layout)
    {
        Assert.Equal(compiled.DataBytes, layout.DataWords * 8);
        Assert.Equal(compiled.Pointers, layout.PointerCount);
        Assert.Equal(compiled.Fields.Keys.Order(), layout.Fields.Keys.Order());
        foreach (var (path, expected) in compiled.Fields)
        {
            var actual = layout.Fields[path];
            var context = $"{compiled.Name}.{path}";
            Assert.True(expected.Ordinal == actual.Ordinal, $"{context}: ordinal");
            if (expected.PointerIndex >= 0)
            {
                Assert.True(actual.IsPointer, $"{context}: expected a pointer");
                Assert.True(expected.PointerIndex == actual.Offset, $"{context}: ptr[{expected.PointerIndex}] but computed ptr[{actual.Offset}]");
            }
            else
            {
                Assert.False(actual.IsPointer, $"{context}: expected data");
                Assert.True(expected.BitStart == actual.BitOffset && expected.BitEnd == actual.BitOffset + actual.BitSize,
                    $"{context}: bits[{expected.BitStart}, {expected.BitEnd}) but computed bits[{actual.BitOffset}, {actual.BitOffset + actual.BitSize})");
            }

            Assert.True(expected.UnionTag == actual.DiscriminantValue, $"{context}: union tag {expected.UnionTag} but computed {actual.DiscriminantValue}");
        }

        Assert.Equal(compiled.UnionTagBits.Keys.Order(), layout.Unions.Keys.Order());
        foreach (var (path, bits) in compiled.UnionTagBits)
        {
            Assert.True(bits == layout.Unions[path].BitOffset, $"{compiled.Name} union '{path}': tag bits {bits} but computed {layout.Unions[path].BitOffset}");
        }

        foreach (var (path, tag) in compiled.GroupUnionTags)
        {
            Assert.True(tag == layout.Groups[path], $"{compiled.Name} group '{path}': union tag {tag} but computed {layout.Groups[path]}");
        }
    }

    /// <summary>Two compiler outputs agree on sizes, offsets, pointer indices and union tags.</summary>
    public static void SameAsCompiled(CompiledStruct expected, CompiledStruct actual)
    {
        Assert.Equal(expected.DataBytes, actual.DataBytes);
        Assert.Equal(expected.Pointers, actual.Pointers);
        Assert.Equal(expected.Fields.Keys.Order(), actual.Fields.Keys.Order());
        foreach (var (path, field) in expected.Fields)
        {
            var other = actual.Fields[path];
            Assert.True(
                (field.Ordinal, field.BitStart, field.BitEnd, field.PointerIndex, field.UnionTag) == (other.Ordinal, other.BitStart, other.BitEnd, other.PointerIndex, other.UnionTag),
                $"{expected.Name}.{path}: {field} but {other}");
        }

        Assert.Equal(expected.UnionTagBits, actual.UnionTagBits);
        Assert.Equal(expected.GroupUnionTags, actual.GroupUnionTags);
    }
}
