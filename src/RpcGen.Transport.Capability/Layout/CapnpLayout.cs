using System;
using System.Collections.Generic;
using System.Linq;

namespace RpcGen.Capnp;

/// <summary>
/// Computes where the Cap'n Proto schema compiler places each field of a struct: data-section
/// offsets and pointer indices, union discriminants and their values. Fields take space in ordinal
/// order, each filling the smallest aligned hole left by earlier fields, so adding a field never
/// moves an existing one. The result matches <c>capnp compile</c> exactly, which is what makes a
/// shape written from C# wire-compatible with one written in the schema language.
/// </summary>
public static class CapnpLayout
{
    /// <summary>Lays out <paramref name="shape"/>.</summary>
    /// <exception cref="CapnpLayoutException">The shape is one the schema compiler would reject.</exception>
    public static StructLayout Compute(StructShape shape)
    {
        if (shape is null)
        {
            throw new ArgumentNullException(nameof(shape));
        }

        return new Computation().Run(shape.Members);
    }

    /// <summary>Lays out the implicit struct of a method's parameters or results: field <c>i</c> has ordinal <c>i</c>.</summary>
    public static StructLayout ComputeParameters(IReadOnlyList<(string Name, CapnpFieldType Type)> parameters)
    {
        if (parameters is null)
        {
            throw new ArgumentNullException(nameof(parameters));
        }

        var members = parameters.Select((p, i) => (StructMember)new FieldShape(p.Name, i, p.Type)).ToList();
        return new Computation().Run(members);
    }

    /// <summary>A member being laid out: what the compiler calls a MemberInfo.</summary>
    private sealed class Member(Member? parent, string path, bool isInUnion)
    {
        public Member? Parent { get; } = parent;

        public string Path { get; } = path;

        public bool IsInUnion { get; } = isInUnion;

        /// <summary>For fields: the scope the field's space comes from.</summary>
        public LayoutScope? FieldScope { get; init; }

        /// <summary>For named unions, and groups or the root holding an unnamed union.</summary>
        public UnionScope? UnionScope { get; set; }

        public int UnionMemberCount { get; set; }

        public FieldShape? Field { get; init; }

        public bool IsGroupOrUnion { get; init; }

        public bool Touched { get; set; }

        public int ChildrenTouched { get; set; }

        public int NextDiscriminant { get; set; }

        public int Discriminant { get; set; } = -1;

        public int Offset { get; set; }
    }

    private sealed class Computation
    {
        private readonly TopScope _top = new();
        private readonly List<(int Ordinal, Member Member)> _byOrdinal = [];
        private readonly List<Member> _all = [];

        public StructLayout Run(IReadOnlyList<StructMember> members)
        {
            var root = new Member(null, string.Empty, isInUnion: false) { IsGroupOrUnion = true };
            TraverseScope(members, root, _top, string.Empty);
            CheckOrdinals();

            // Fields take space in ordinal order; this is the whole point of the algorithm.
            foreach (var (_, member) in _byOrdinal.OrderBy(e => e.Ordinal))
            {
                Touch(member);
                if (member.Field is { } field)
                {
                    var scope = member.FieldScope!;
                    var lg = field.Type.LgBits;
                    member.Offset = lg switch
                    {
                        -2 => scope.AddPointer(),
                        -1 => AddVoid(scope),
                        _ => scope.AddData(lg),
                    };
                }
                else if (!member.UnionScope!.AddDiscriminant())
                {
                    throw new CapnpLayoutException(
                        $"Union '{member.Path}': an explicit union ordinal may be greater than at most one of its members' ordinals (only one field can be retroactively unionized).");
                }
            }

            var unions = new Dictionary<string, UnionLayout>(StringComparer.Ordinal);
            FinishGroup(root, unions);
            foreach (var member in _all)
            {
                if (member.IsGroupOrUnion)
                {
                    FinishGroup(member, unions);
                }
            }

            var fields = new Dictionary<string, FieldLayout>(StringComparer.Ordinal);
            var groups = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var member in _all)
            {
                if (member.Field is { } field)
                {
                    fields[member.Path] = new FieldLayout(member.Path, field.Ordinal, field.Type, member.Offset, member.Discriminant);
                }
                else if (member.IsInUnion)
                {
                    groups[member.Path] = member.Discriminant;
                }
            }

            return new StructLayout(_top.DataWords, _top.PointerCount, fields, unions, groups);
        }

        private static int AddVoid(LayoutScope scope)
        {
            scope.AddVoid();
            return 0;
        }

        /// <summary>Members of the struct or of a group: they share <paramref name="scope"/>.</summary>
        private void TraverseScope(IReadOnlyList<StructMember> members, Member parent, LayoutScope scope, string prefix)
        {
            var sawUnnamedUnion = false;
            foreach (var shape in members)
            {
                switch (shape)
                {
                    case FieldShape field:
                        Add(new Member(parent, prefix + field.Name, isInUnion: false) { FieldScope = scope, Field = field }, field.Ordinal);
                        break;

                    case UnionShape union:
                    {
                        var unionScope = new UnionScope(scope);
                        Member owner;
                        string unionPrefix;
                        if (union.Name.Length == 0)
                        {
                            if (sawUnnamedUnion)
                            {
                                throw new CapnpLayoutException($"'{parent.Path}' has more than one unnamed union.");
                            }

                            sawUnnamedUnion = true;
                            owner = parent;
                            unionPrefix = prefix;
                        }
                        else
                        {
                            owner = new Member(parent, prefix + union.Name, isInUnion: false) { IsGroupOrUnion = true };
                            _all.Add(owner);
                            unionPrefix = owner.Path + ".";
                        }

                        owner.UnionScope = unionScope;
                        TraverseUnion(union, owner, unionScope, unionPrefix);
                        if (union.Ordinal is { } ordinal)
                        {
                            if (union.Name.Length == 0)
                            {
                                throw new CapnpLayoutException("An unnamed union cannot have an ordinal.");
                            }

                            _byOrdinal.Add((ordinal, owner));
                        }

                        break;
                    }

                    case GroupShape group:
                    {
                        RequireMembers(group.Members, group.Name, 1, "A group");
                        var member = new Member(parent, prefix + group.Name, isInUnion: false) { IsGroupOrUnion = true };
                        _all.Add(member);

                        // A group's fields are laid out exactly as if they were the parent's.
                        TraverseScope(group.Members, member, scope, member.Path + ".");
                        break;
                    }

                    default:
                        throw new ArgumentException($"Unknown member kind {shape.GetType().Name}.", nameof(members));
                }
            }
        }

        /// <summary>Members of a union: each gets its own group scope over the union's shared space.</summary>
        private void TraverseUnion(UnionShape union, Member owner, UnionScope unionScope, string prefix)
        {
            RequireMembers(union.Members, union.Name, 2, "A union");
            owner.UnionMemberCount = union.Members.Count;
            foreach (var shape in union.Members)
            {
                switch (shape)
                {
                    case FieldShape field:
                        Add(new Member(owner, prefix + field.Name, isInUnion: true) { FieldScope = new GroupScope(unionScope), Field = field }, field.Ordinal);
                        break;

                    case UnionShape nested:
                    {
                        if (nested.Name.Length == 0)
                        {
                            throw new CapnpLayoutException($"Union '{union.Name}' contains an unnamed union; unions cannot contain unnamed unions.");
                        }

                        var singleton = new GroupScope(unionScope);
                        var member = new Member(owner, prefix + nested.Name, isInUnion: true) { IsGroupOrUnion = true, UnionScope = new UnionScope(singleton) };
                        _all.Add(member);
                        TraverseUnion(nested, member, member.UnionScope, member.Path + ".");
                        if (nested.Ordinal is { } ordinal)
                        {
                            _byOrdinal.Add((ordinal, member));
                        }

                        break;
                    }

                    case GroupShape group:
                    {
                        RequireMembers(group.Members, group.Name, 1, "A group");
                        var member = new Member(owner, prefix + group.Name, isInUnion: true) { IsGroupOrUnion = true };
                        _all.Add(member);
                        TraverseScope(group.Members, member, new GroupScope(unionScope), member.Path + ".");
                        break;
                    }

                    default:
                        throw new ArgumentException($"Unknown member kind {shape.GetType().Name}.", nameof(union));
                }
            }
        }

        private void Add(Member member, int ordinal)
        {
            _all.Add(member);
            _byOrdinal.Add((ordinal, member));
        }

        /// <summary>
        /// The moment the compiler first builds a member's schema node: a member's enclosing group
        /// is touched before the member, and union members take discriminant values in this order.
        /// </summary>
        private static void Touch(Member member)
        {
            if (member.Touched)
            {
                return;
            }

            var parent = member.Parent!;
            if (parent.Parent is not null && parent.ChildrenTouched == 0)
            {
                Touch(parent);
            }

            parent.ChildrenTouched++;
            member.Touched = true;
            if (member.IsInUnion)
            {
                member.Discriminant = parent.NextDiscriminant++;
            }
        }

        private static void FinishGroup(Member member, Dictionary<string, UnionLayout> unions)
        {
            if (member.UnionScope is { } union)
            {
                union.AddDiscriminant();
                unions[member.Path] = new UnionLayout(member.Path, union.DiscriminantOffset!.Value, member.UnionMemberCount);
            }
        }

        private void CheckOrdinals()
        {
            var ordinals = _byOrdinal.Select(e => e.Ordinal).OrderBy(o => o).ToList();
            for (var i = 0; i < ordinals.Count; i++)
            {
                if (ordinals[i] != i)
                {
                    throw new CapnpLayoutException(i > 0 && ordinals[i] == ordinals[i - 1]
                        ? $"Ordinal @{ordinals[i]} is used twice."
                        : $"Ordinal @{i} is skipped; ordinals must be 0..n-1.");
                }
            }
        }

        private static void RequireMembers(IReadOnlyList<StructMember> members, string name, int minimum, string what)
        {
            if (members.Count < minimum)
            {
                throw new CapnpLayoutException($"{what} ('{name}') needs at least {minimum} member{(minimum > 1 ? "s" : string.Empty)}.");
            }
        }
    }
}
