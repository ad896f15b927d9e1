using System.Diagnostics.CodeAnalysis;

namespace RpcGen.Capnp;

/// <summary>
/// A table whose ids we choose: the lowest free id is reused first, like Unix file descriptors,
/// as rpc.capnp suggests (small ids pack better).
/// </summary>
internal sealed class IdTable<T>
    where T : class
{
    private readonly List<T?> _slots = [];
    private readonly PriorityQueue<uint, uint> _free = new();

    public int Count { get; private set; }

    public uint Add(T value)
    {
        if (_free.TryDequeue(out var id, out _))
        {
            _slots[(int)id] = value;
        }
        else
        {
            id = (uint)_slots.Count;
            _slots.Add(value);
        }

        Count++;
        return id;
    }

    public bool TryGet(uint id, [NotNullWhen(true)] out T? value)
    {
        value = id < (uint)_slots.Count ? _slots[(int)id] : null;
        return value is not null;
    }

    public void Remove(uint id)
    {
        if (id < (uint)_slots.Count && _slots[(int)id] is not null)
        {
            _slots[(int)id] = null;
            _free.Enqueue(id, id);
            Count--;
        }
    }

    public List<T> Values() => _slots.Where(v => v is not null).Select(v => v!).ToList();

    public void Clear()
    {
        _slots.Clear();
        _free.Clear();
        Count = 0;
    }
}
