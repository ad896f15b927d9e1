using System;
using System.Collections.Generic;

namespace RpcGen.Capnp;

// The space allocator behind CapnpLayout. The schema compiler's rule is: fields take space in
// ordinal order; each goes into the smallest existing hole it fits, aligned to its own size, or
// else at the end of the data section. Union members share space: each member is a "group" that
// may reuse the locations its siblings already claimed, and the union grows (or adds locations)
// only when a member needs more than any sibling did.

/// <summary>
/// The padding left in a section: at most one hole of each power-of-two size from 1 to 32 bits,
/// because every field is a power of two aligned to itself. Each entry is the hole's offset in units
/// of its own size; 0 means no hole (offset 0 is always taken by the first field).
/// </summary>
internal sealed class LayoutHoleSet
{
    public const int Sizes = 6;

    private readonly int[] _holes = new int[Sizes];

    /// <summary>Takes a hole of 2^lg bits, splitting a larger one if needed; null when none is big enough.</summary>
    public int? TryAllocate(int lg)
    {
        if (lg >= Sizes)
        {
            return null;
        }

        if (_holes[lg] != 0)
        {
            var result = _holes[lg];
            _holes[lg] = 0;
            return result;
        }

        // Split the next larger hole: use its first half, leave its second half as a hole.
        if (TryAllocate(lg + 1) is { } larger)
        {
            var result = larger * 2;
            _holes[lg] = result + 1;
            return result;
        }

        return null;
    }

    /// <summary>
    /// After a field of 2^lg bits was placed at the start of a fresh 2^limit-bit space, records the
    /// rest of that space as holes of sizes 2^lg, 2^(lg+1), ... 2^(limit-1).
    /// </summary>
    public void AddHolesAtEnd(int lg, int offset, int limit = Sizes)
    {
        while (lg < limit)
        {
            _holes[lg] = offset;
            lg++;
            offset = (offset + 1) / 2;
        }
    }

    /// <summary>Grows the value at (lg, offset) to 2^factor times its size by absorbing the holes right after it.</summary>
    public bool TryExpand(int lg, int offset, int factor)
    {
        if (factor == 0)
        {
            return true;
        }

        if (lg == Sizes || _holes[lg] != offset + 1)
        {
            return false;
        }

        if (TryExpand(lg + 1, offset >> 1, factor - 1))
        {
            _holes[lg] = 0;
            return true;
        }

        return false;
    }

    /// <summary>The size (lg) of the smallest hole of at least 2^lg bits.</summary>
    public int? SmallestAtLeast(int lg)
    {
        for (var i = lg; i < Sizes; i++)
        {
            if (_holes[i] != 0)
            {
                return i;
            }
        }

        return null;
    }
}

/// <summary>A place fields are added to: the struct itself, or one member of a union.</summary>
internal abstract class LayoutScope
{
    public abstract void AddVoid();

    /// <summary>Allocates 2^lg bits; returns the offset in units of 2^lg bits.</summary>
    public abstract int AddData(int lg);

    public abstract int AddPointer();

    /// <summary>Grows an earlier allocation in place by 2^factor, if the space after it is free.</summary>
    public abstract bool TryExpandData(int lg, int offset, int factor);
}

/// <summary>The struct's own sections.</summary>
internal sealed class TopScope : LayoutScope
{
    private readonly LayoutHoleSet _holes = new();

    public int DataWords { get; private set; }

    public int PointerCount { get; private set; }

    public override void AddVoid()
    {
    }

    public override int AddData(int lg)
    {
        if (_holes.TryAllocate(lg) is { } hole)
        {
            return hole;
        }

        // A new word at the end; the field takes its start and the rest becomes holes.
        var offset = DataWords++ << (6 - lg);
        _holes.AddHolesAtEnd(lg, offset + 1);
        return offset;
    }

    public override int AddPointer() => PointerCount++;

    public override bool TryExpandData(int lg, int offset, int factor) => _holes.TryExpand(lg, offset, factor);
}

/// <summary>
/// A union: the data locations and pointers its members share, and its discriminant, which is
/// allocated when a second member gets its first field (a union of one is just its member).
/// </summary>
internal sealed class UnionScope(LayoutScope parent)
{
    public LayoutScope Parent { get; } = parent;

    public List<DataLocation> DataLocations { get; } = [];

    public List<int> PointerLocations { get; } = [];

    public int? DiscriminantOffset { get; private set; }

    private int _membersWithFields;

    public int AddNewDataLocation(int lg)
    {
        var offset = Parent.AddData(lg);
        DataLocations.Add(new DataLocation(lg, offset));
        return offset;
    }

    public int AddNewPointerLocation()
    {
        var index = Parent.AddPointer();
        PointerLocations.Add(index);
        return index;
    }

    public void MemberGotFirstField()
    {
        if (++_membersWithFields == 2)
        {
            AddDiscriminant();
        }
    }

    public bool AddDiscriminant()
    {
        if (DiscriminantOffset is not null)
        {
            return false;
        }

        DiscriminantOffset = Parent.AddData(4);
        return true;
    }

    /// <summary>A slot of 2^Lg bits at Offset (in units of its size) in the union's parent, shared by the members.</summary>
    internal sealed class DataLocation(int lg, int offset)
    {
        public int Lg { get; private set; } = lg;

        public int Offset { get; private set; } = offset;

        public bool TryExpandTo(UnionScope union, int newLg)
        {
            if (newLg <= Lg)
            {
                return true;
            }

            if (union.Parent.TryExpandData(Lg, Offset, newLg - Lg))
            {
                Offset >>= newLg - Lg;
                Lg = newLg;
                return true;
            }

            return false;
        }
    }
}

/// <summary>One member of a union (a field counts as a group of one): how much of each shared location it uses.</summary>
internal sealed class GroupScope(UnionScope parent) : LayoutScope
{
    private readonly List<LocationUsage> _usage = [];
    private int _pointersUsed;
    private bool _hasFields;

    public UnionScope Parent { get; } = parent;

    public override void AddVoid()
    {
        NoteField();

        // A Void member still counts as a member of any enclosing union, so that union's
        // discriminant is allocated at the same moment as the compiler allocates it.
        Parent.Parent.AddVoid();
    }

    public override int AddData(int lg)
    {
        NoteField();
        int? bestSize = null;
        var bestLocation = -1;
        for (var i = 0; i < Parent.DataLocations.Count; i++)
        {
            if (_usage.Count == i)
            {
                _usage.Add(new LocationUsage());
            }

            if (_usage[i].SmallestHoleAtLeast(Parent.DataLocations[i], lg) is { } hole && (bestSize is null || hole < bestSize))
            {
                bestSize = hole;
                bestLocation = i;
            }
        }

        if (bestLocation >= 0)
        {
            return _usage[bestLocation].AllocateFromHole(Parent.DataLocations[bestLocation], lg);
        }

        for (var i = 0; i < Parent.DataLocations.Count; i++)
        {
            if (_usage[i].TryAllocateByExpanding(this, Parent.DataLocations[i], lg) is { } expanded)
            {
                return expanded;
            }
        }

        var offset = Parent.AddNewDataLocation(lg);
        _usage.Add(LocationUsage.UsedFor(lg));
        return offset;
    }

    public override int AddPointer()
    {
        NoteField();
        if (_pointersUsed < Parent.PointerLocations.Count)
        {
            return Parent.PointerLocations[_pointersUsed++];
        }

        _pointersUsed++;
        return Parent.AddNewPointerLocation();
    }

    public override bool TryExpandData(int lg, int offset, int factor)
    {
        // The compiler of Cap'n Proto 0.5 and earlier went on here instead of failing; a schema
        // where that led to a different layout is refused, as the compiler refuses it (issue 344).
        var mustFail = lg + factor > 6 || (offset & ((1 << factor) - 1)) != 0;
        for (var i = 0; i < _usage.Count; i++)
        {
            var location = Parent.DataLocations[i];
            if (location.Lg >= lg && (offset >> (location.Lg - lg)) == location.Offset)
            {
                var localOffset = offset - (location.Offset << (location.Lg - lg));
                var expanded = _usage[i].TryExpand(this, location, lg, localOffset, factor);
                if (mustFail && expanded)
                {
                    throw Issue344();
                }

                return expanded;
            }
        }

        throw new InvalidOperationException("Tried to expand a field that was never allocated.");
    }

    internal static CapnpLayoutException Issue344() => new(
        "This shape hits the layout bug of Cap'n Proto 0.5 and earlier (capnp issue 344); the schema compiler refuses it, and so does this layout.");

    private void NoteField()
    {
        if (!_hasFields)
        {
            _hasFields = true;
            Parent.MemberGotFirstField();
        }
    }

    /// <summary>How much of one shared location this member uses, and the holes inside that part.</summary>
    private sealed class LocationUsage
    {
        private readonly LayoutHoleSet _holes = new();
        private bool _isUsed;
        private int _lgUsed;

        public static LocationUsage UsedFor(int lg) => new() { _isUsed = true, _lgUsed = lg };

        /// <summary>The size of the smallest hole that would fit 2^lg bits, counting the room to double the used part.</summary>
        public int? SmallestHoleAtLeast(UnionScope.DataLocation location, int lg)
        {
            if (!_isUsed)
            {
                return lg <= location.Lg ? location.Lg : null;
            }

            if (lg >= _lgUsed)
            {
                return lg < location.Lg ? lg : null;
            }

            if (_holes.SmallestAtLeast(lg) is { } hole)
            {
                return hole;
            }

            return _lgUsed < location.Lg ? _lgUsed : null;
        }

        public int AllocateFromHole(UnionScope.DataLocation location, int lg)
        {
            int result;
            if (!_isUsed)
            {
                result = 0;
                _isUsed = true;
                _lgUsed = lg;
            }
            else if (lg >= _lgUsed)
            {
                // Double to twice the request and take the second half.
                _holes.AddHolesAtEnd(_lgUsed, 1, lg);
                _lgUsed = lg + 1;
                result = 1;
            }
            else if (_holes.TryAllocate(lg) is { } hole)
            {
                result = hole;
            }
            else
            {
                // Double the used part and allocate from the new half.
                result = 1 << (_lgUsed - lg);
                _holes.AddHolesAtEnd(lg, result + 1, _lgUsed);
                _lgUsed++;
            }

            return (location.Offset << (location.Lg - lg)) + result;
        }

        public int? TryAllocateByExpanding(GroupScope group, UnionScope.DataLocation location, int lg)
        {
            if (!_isUsed)
            {
                if (location.TryExpandTo(group.Parent, lg))
                {
                    _isUsed = true;
                    _lgUsed = lg;
                    return location.Offset << (location.Lg - lg);
                }

                return null;
            }

            var newSize = Math.Max(_lgUsed, lg) + 1;
            if (TryExpandUsage(group, location, newSize, newHoles: true))
            {
                var hole = _holes.TryAllocate(lg) ?? throw new InvalidOperationException("Expanded a location but found no hole in it.");
                return (location.Offset << (location.Lg - lg)) + hole;
            }

            return null;
        }

        public bool TryExpand(GroupScope group, UnionScope.DataLocation location, int lg, int offset, int factor)
        {
            if (offset == 0 && _lgUsed == lg)
            {
                // The location holds exactly this value: grow the whole usage.
                return TryExpandUsage(group, location, lg + factor, newHoles: false);
            }

            // The value shares the used part with others; it can only absorb holes.
            return _holes.TryExpand(lg, offset, factor);
        }

        private bool TryExpandUsage(GroupScope group, UnionScope.DataLocation location, int desired, bool newHoles)
        {
            if (desired > location.Lg && !location.TryExpandTo(group.Parent, desired))
            {
                return false;
            }

            if (newHoles)
            {
                _holes.AddHolesAtEnd(_lgUsed, 1, desired);
            }
            else
            {
                // Earlier compilers added holes here too, which could overlap fields (issue 344).
                throw Issue344();
            }

            _lgUsed = desired;
            return true;
        }
    }
}
