using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using MessagePack;

namespace RpcGen.Serialization;

/// <summary>
/// Formats any collection of <typeparamref name="T"/> (a set, a queue, a stack, a linked list, an
/// immutable collection…) as a MessagePack array in enumeration order (nil for null or a default
/// <see cref="ImmutableArray{T}"/>), and reads it back through the given factory from a list of the items.
/// Generated code supplies the factory (<c>static items => new HashSet&lt;int&gt;(items)</c>), so no
/// reflection is involved.
/// </summary>
/// <typeparam name="TCollection">The declared collection type.</typeparam>
/// <typeparam name="T">The element type.</typeparam>
public sealed class SequenceFormatter<TCollection, T> : IRpcFormatter<TCollection>
    where TCollection : IEnumerable<T>
{
    private readonly IRpcFormatter<T> _element;
    private readonly ListFormatter<T> _list;
    private readonly Func<List<T>, TCollection> _create;

    /// <summary>Creates the formatter from the element formatter and the factory that builds a collection from the items read.</summary>
    public SequenceFormatter(IRpcFormatter<T> element, Func<List<T>, TCollection> create)
    {
        _element = element;
        _list = new ListFormatter<T>(element);
        _create = create;
    }

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, TCollection value)
    {
        if (value is null || value is ImmutableArray<T> { IsDefault: true })
        {
            writer.WriteNil();
            return;
        }

        // Collections with a count are written in one pass; the others (immutable queues and stacks) are
        // materialized once so the array header can carry the length.
        if (value is not ICollection<T> and not IReadOnlyCollection<T>)
        {
            _list.Serialize(ref writer, new List<T>(value));
            return;
        }

        var count = value is ICollection<T> collection ? collection.Count : ((IReadOnlyCollection<T>)value).Count;
        writer.WriteArrayHeader(count);
        var written = 0;
        foreach (var item in value)
        {
            _element.Serialize(ref writer, item);
            written++;
        }

        if (written != count)
        {
            throw new InvalidOperationException("The collection changed while it was being written.");
        }
    }

    /// <inheritdoc />
    public TCollection Deserialize(ref MessagePackReader reader) =>
        _list.Deserialize(ref reader) is { } items ? _create(items) : default!;
}

/// <summary>
/// Formats any dictionary-like collection (a sorted, concurrent or immutable dictionary, or a dictionary
/// interface) as a MessagePack map (nil for null), and reads it back through the given factory from a
/// <see cref="Dictionary{TKey, TValue}"/> read with the collision-resistant comparer of
/// <see cref="DictionaryFormatter{TKey, TValue}"/> (duplicate keys refused).
/// </summary>
/// <typeparam name="TMap">The declared type.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class MapFormatter<TMap, TKey, TValue> : IRpcFormatter<TMap>
    where TMap : IEnumerable<KeyValuePair<TKey, TValue>>
    where TKey : notnull
{
    private readonly IRpcFormatter<TKey> _key;
    private readonly IRpcFormatter<TValue> _value;
    private readonly DictionaryFormatter<TKey, TValue> _dictionary;
    private readonly Func<Dictionary<TKey, TValue>, TMap> _create;

    /// <summary>Creates the formatter from the key and value formatters and the factory that builds the map from what was read.</summary>
    public MapFormatter(IRpcFormatter<TKey> key, IRpcFormatter<TValue> value, Func<Dictionary<TKey, TValue>, TMap> create)
    {
        _key = key;
        _value = value;
        _dictionary = new DictionaryFormatter<TKey, TValue>(key, value);
        _create = create;
    }

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, TMap value)
    {
        switch (value)
        {
            case null:
                writer.WriteNil();
                return;
            case Dictionary<TKey, TValue> concrete:
                _dictionary.Serialize(ref writer, concrete);
                return;
        }

        var count = value switch
        {
            ICollection<KeyValuePair<TKey, TValue>> collection => collection.Count,
            IReadOnlyCollection<KeyValuePair<TKey, TValue>> collection => collection.Count,
            _ => value.Count(),
        };
        writer.WriteMapHeader(count);
        var written = 0;
        foreach (var pair in value)
        {
            _key.Serialize(ref writer, pair.Key);
            _value.Serialize(ref writer, pair.Value);
            written++;
        }

        if (written != count)
        {
            throw new InvalidOperationException("The dictionary changed while it was being written.");
        }
    }

    /// <inheritdoc />
    public TMap Deserialize(ref MessagePackReader reader) =>
        _dictionary.Deserialize(ref reader) is { } map ? _create(map) : default!;
}

/// <summary>Formats a <see cref="Lazy{T}"/> as its value (nil for a null <c>Lazy</c>); reading gives one already holding the value.</summary>
/// <typeparam name="T">The value type.</typeparam>
public sealed class LazyFormatter<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T> : IRpcFormatter<Lazy<T>>
{
    private readonly IRpcFormatter<T> _value;

    /// <summary>Creates the formatter from the value formatter.</summary>
    public LazyFormatter(IRpcFormatter<T> value) => _value = value;

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, Lazy<T> value)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        _value.Serialize(ref writer, value.Value);
    }

    /// <inheritdoc />
    public Lazy<T> Deserialize(ref MessagePackReader reader)
    {
        if (reader.TryReadNil())
        {
            return null!;
        }

        var value = _value.Deserialize(ref reader);
        return new Lazy<T>(value);
    }
}
