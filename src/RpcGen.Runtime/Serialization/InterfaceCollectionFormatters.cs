using MessagePack;

namespace RpcGen.Serialization;

/// <summary>
/// Formats a collection declared as one of the interfaces <see cref="List{T}"/> implements
/// (<see cref="IList{T}"/>, <see cref="IReadOnlyList{T}"/>, <see cref="ICollection{T}"/>,
/// <see cref="IReadOnlyCollection{T}"/>, <see cref="IEnumerable{T}"/>) as a MessagePack array (nil for
/// null). Reads back a <see cref="List{T}"/>.
/// </summary>
/// <typeparam name="TCollection">The declared interface.</typeparam>
/// <typeparam name="T">The element type.</typeparam>
public sealed class CollectionInterfaceFormatter<TCollection, T> : IRpcFormatter<TCollection>
    where TCollection : class, IEnumerable<T>
{
    private readonly ListFormatter<T> _list;

    /// <summary>Creates the formatter from the element formatter.</summary>
    /// <exception cref="ArgumentException"><typeparamref name="TCollection"/> is not implemented by <see cref="List{T}"/>.</exception>
    public CollectionInterfaceFormatter(IRpcFormatter<T> element)
    {
        if (new List<T>() is not TCollection)
        {
            throw new ArgumentException($"'{typeof(TCollection)}' is not implemented by List<{typeof(T).Name}>.", nameof(element));
        }

        _list = new ListFormatter<T>(element);
    }

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, TCollection value)
    {
        // Collections with a count are written in one pass; a lazy sequence is materialized once so
        // the array header can carry its length.
        var list = value switch
        {
            null => null,
            List<T> concrete => concrete,
            _ => new List<T>(value),
        };
        _list.Serialize(ref writer, list!);
    }

    /// <inheritdoc />
    public TCollection Deserialize(ref MessagePackReader reader) => (TCollection)(object)_list.Deserialize(ref reader);
}

/// <summary>
/// Formats a dictionary declared as <see cref="IDictionary{TKey, TValue}"/> or
/// <see cref="IReadOnlyDictionary{TKey, TValue}"/> as a MessagePack map (nil for null). Reads back a
/// <see cref="Dictionary{TKey, TValue}"/> with the collision-resistant comparer of
/// <see cref="DictionaryFormatter{TKey, TValue}"/>.
/// </summary>
/// <typeparam name="TDictionary">The declared interface.</typeparam>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class DictionaryInterfaceFormatter<TDictionary, TKey, TValue> : IRpcFormatter<TDictionary>
    where TDictionary : class, IEnumerable<KeyValuePair<TKey, TValue>>
    where TKey : notnull
{
    private readonly MapFormatter<TDictionary, TKey, TValue> _map;

    /// <summary>Creates the formatter from the key and value formatters.</summary>
    /// <exception cref="ArgumentException"><typeparamref name="TDictionary"/> is not implemented by <see cref="Dictionary{TKey, TValue}"/>.</exception>
    public DictionaryInterfaceFormatter(IRpcFormatter<TKey> key, IRpcFormatter<TValue> value)
    {
        if (new Dictionary<TKey, TValue>() is not TDictionary)
        {
            throw new ArgumentException($"'{typeof(TDictionary)}' is not implemented by Dictionary<{typeof(TKey).Name}, {typeof(TValue).Name}>.", nameof(key));
        }

        _map = new MapFormatter<TDictionary, TKey, TValue>(key, value, static dictionary => (TDictionary)(object)dictionary);
    }

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, TDictionary value) => _map.Serialize(ref writer, value);

    /// <inheritdoc />
    public TDictionary Deserialize(ref MessagePackReader reader) => _map.Deserialize(ref reader);
}
