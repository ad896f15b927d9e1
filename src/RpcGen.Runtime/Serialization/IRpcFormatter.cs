using MessagePack;

namespace RpcGen.Serialization;

/// <summary>
/// Writes and reads one type as MessagePack. The generator emits one for every DTO reachable from a
/// service contract; the runtime ships the ones for primitives and collections.
/// </summary>
/// <remarks>
/// RpcGen uses MessagePack's wire primitives (<see cref="MessagePackWriter"/> and
/// <see cref="MessagePackReader"/>) but not its resolver and options machinery: in MessagePack 2.5
/// those pull Reflection.Emit code paths into a NativeAOT image (IL2104/IL3053). The untrusted-data
/// protections MessagePack's options give are provided here instead: a nesting depth limit,
/// lengths checked against the bytes that remain before anything is allocated, and
/// randomized hashing of dictionary keys (see <see cref="RpcSerializer"/>).
/// </remarks>
/// <typeparam name="T">The type written and read.</typeparam>
public interface IRpcFormatter<T>
{
    /// <summary>Writes <paramref name="value"/>.</summary>
    void Serialize(ref MessagePackWriter writer, T value);

    /// <summary>Reads a value. Throws <see cref="MessagePackSerializationException"/> or <see cref="RpcException"/> on malformed input.</summary>
    T Deserialize(ref MessagePackReader reader);
}
