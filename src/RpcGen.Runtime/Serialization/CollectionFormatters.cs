using MessagePack;

namespace RpcGen.Serialization;

/// <summary>Formats <c>T?</c> for a value type <typeparamref name="T"/>: nil or the value.</summary>
public sealed class NullableFormatter<T> : IRpcFormatter<T?>
    where T : struct
{
    private readonly IRpcFormatter<T> _inner;

    /// <summary>Wraps the formatter of the underlying type.</summary>
    public NullableFormatter(IRpcFormatter<T> inner) => _inner = inner;

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, T? value)
    {
        if (value is null)
        {
            writer.WriteNil();
        }
        else
        {
            _inner.Serialize(ref writer, value.GetValueOrDefault());
        }
    }

    /// <inheritdoc />
    public T? Deserialize(ref MessagePackReader reader) =>
        reader.TryReadNil() ? null : _inner.Deserialize(ref reader);
}

/// <summary>Formats an array as a MessagePack array (nil for null).</summary>
public sealed class ArrayFormatter<T> : IRpcFormatter<T[]>
{
    private readonly IRpcFormatter<T> _element;

    /// <summary>Creates the formatter from the element formatter.</summary>
    public ArrayFormatter(IRpcFormatter<T> element) => _element = element;

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, T[] value)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(value.Length);
        foreach (var item in value)
        {
            _element.Serialize(ref writer, item);
        }
    }

    /// <inheritdoc />
    public T[] Deserialize(ref MessagePackReader reader)
    {
        if (reader.TryReadNil())
        {
            return null!;
        }

        // ReadArrayHeader refuses a count larger than the bytes that remain, so a hostile length
        // cannot make this allocate more than the frame that carried it.
        var count = reader.ReadArrayHeader();
        RpcSerializer.EnterNested(ref reader);
        var result = count == 0 ? [] : new T[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = _element.Deserialize(ref reader);
        }

        reader.Depth--;
        return result;
    }
}

/// <summary>Formats a <see cref="List{T}"/> as a MessagePack array (nil for null).</summary>
public sealed class ListFormatter<T> : IRpcFormatter<List<T>>
{
    private readonly IRpcFormatter<T> _element;

    /// <summary>Creates the formatter from the element formatter.</summary>
    public ListFormatter(IRpcFormatter<T> element) => _element = element;

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, List<T> value)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(value.Count);
        foreach (var item in value)
        {
            _element.Serialize(ref writer, item);
        }
    }

    /// <inheritdoc />
    public List<T> Deserialize(ref MessagePackReader reader)
    {
        if (reader.TryReadNil())
        {
            return null!;
        }

        var count = reader.ReadArrayHeader();
        RpcSerializer.EnterNested(ref reader);
        var result = new List<T>(count);
        for (var i = 0; i < count; i++)
        {
            result.Add(_element.Deserialize(ref reader));
        }

        reader.Depth--;
        return result;
    }
}

/// <summary>
/// Formats a <see cref="Dictionary{TKey, TValue}"/> as a MessagePack map (nil for null). Dictionaries
/// read from the wire use a key comparer with per-process random hashing so that a peer cannot
/// choose keys that all land in one bucket.
/// </summary>
public sealed class DictionaryFormatter<TKey, TValue> : IRpcFormatter<Dictionary<TKey, TValue>>
    where TKey : notnull
{
    private readonly IRpcFormatter<TKey> _key;
    private readonly IRpcFormatter<TValue> _value;

    /// <summary>Creates the formatter from the key and value formatters.</summary>
    public DictionaryFormatter(IRpcFormatter<TKey> key, IRpcFormatter<TValue> value)
    {
        _key = key;
        _value = value;
    }

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, Dictionary<TKey, TValue> value)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteMapHeader(value.Count);
        foreach (var pair in value)
        {
            _key.Serialize(ref writer, pair.Key);
            _value.Serialize(ref writer, pair.Value);
        }
    }

    /// <inheritdoc />
    public Dictionary<TKey, TValue> Deserialize(ref MessagePackReader reader)
    {
        if (reader.TryReadNil())
        {
            return null!;
        }

        var count = reader.ReadMapHeader();
        RpcSerializer.EnterNested(ref reader);
        var result = new Dictionary<TKey, TValue>(count, CollisionResistantComparer<TKey>.Instance);
        for (var i = 0; i < count; i++)
        {
            var key = _key.Deserialize(ref reader);
            var item = _value.Deserialize(ref reader);
            if (!result.TryAdd(key, item))
            {
                throw new MessagePackSerializationException("A map has a duplicate key.");
            }
        }

        reader.Depth--;
        return result;
    }
}

/// <summary>
/// An equality comparer whose hash codes are mixed with the process's random <see cref="HashCode"/>
/// seed. Strings keep the framework's comparer, which already switches to randomized hashing when it
/// sees too many collisions.
/// </summary>
public sealed class CollisionResistantComparer<T> : IEqualityComparer<T>
{
    /// <summary>The comparer for <typeparamref name="T"/>, or null to use the default (strings).</summary>
    public static readonly IEqualityComparer<T>? Instance =
        typeof(T) == typeof(string) ? null : new CollisionResistantComparer<T>();

    /// <inheritdoc />
    public bool Equals(T? x, T? y) => EqualityComparer<T>.Default.Equals(x, y);

    /// <inheritdoc />
    public int GetHashCode(T obj) => HashCode.Combine(obj);
}
