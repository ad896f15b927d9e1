namespace RpcGen.Capnp;

/// <summary>
/// The path from a call's result struct to a capability in it: pointer indices (not field
/// ordinals, so a peer needs no schema), as <c>PromisedAnswer.transform</c> carries them.
/// </summary>
internal readonly struct PipelinePath : IEquatable<PipelinePath>
{
    private readonly ushort[]? _pointers;

    public PipelinePath(ushort[] pointers)
    {
        _pointers = pointers;
    }

    public static PipelinePath Root => default;

    public ReadOnlySpan<ushort> Pointers => _pointers ?? [];

    public bool Equals(PipelinePath other) => Pointers.SequenceEqual(other.Pointers);

    public override bool Equals(object? obj) => obj is PipelinePath other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var pointer in Pointers)
        {
            hash.Add(pointer);
        }

        return hash.ToHashCode();
    }

    /// <summary>Follows the path from <paramref name="content"/>; the result is the pointer that should hold the capability.</summary>
    public PointerReader Walk(PointerReader content)
    {
        foreach (var pointer in Pointers)
        {
            content = content.GetStruct().GetPointer(pointer);
        }

        return content;
    }

    /// <summary>Writes the path as a <c>List(PromisedAnswer.Op)</c>.</summary>
    public void Write(PointerBuilder transform)
    {
        var ops = transform.InitStructList(Pointers.Length, RpcSchema.Op.DataWords, RpcSchema.Op.Pointers);
        for (var i = 0; i < Pointers.Length; i++)
        {
            var op = ops.GetStruct(i);
            op.WriteUInt16(RpcSchema.Op.Which, RpcSchema.Op.IsGetPointerField);
            op.WriteUInt16(RpcSchema.Op.GetPointerField, Pointers[i]);
        }
    }

    /// <summary>Reads a transform; <c>noop</c> ops are skipped, unknown ops are a protocol error.</summary>
    public static PipelinePath Read(ListReader ops)
    {
        var pointers = new List<ushort>(ops.Count);
        for (var i = 0; i < ops.Count; i++)
        {
            var op = ops.GetStruct(i);
            switch (op.ReadUInt16(RpcSchema.Op.Which))
            {
                case RpcSchema.Op.Noop:
                    break;
                case RpcSchema.Op.IsGetPointerField:
                    pointers.Add(op.ReadUInt16(RpcSchema.Op.GetPointerField));
                    break;
                default:
                    throw new CapnpProtocolException("A PromisedAnswer transform has an unknown operation.");
            }
        }

        return new PipelinePath([.. pointers]);
    }

    public override string ToString() => "[" + string.Join(", ", Pointers.ToArray()) + "]";
}
