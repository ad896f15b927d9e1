using System.Buffers.Binary;
using MessagePack;

namespace RpcGen.Serialization;

/// <summary>
/// Writes an <c>[RpcService]</c> interface argument or result by reference: the object stays where
/// it is and the peer gets a proxy that calls back over the same connection. On the wire it is the
/// MessagePack extension <see cref="ExtensionType"/> with the 4-byte export id (nil for null), or
/// <see cref="ReceiverHostedExtensionType"/> when the id is one of the receiver's own exports coming home.
/// </summary>
public sealed class RpcServiceReferenceFormatter<TService> : IRpcFormatter<TService>
    where TService : class
{
    /// <summary>The MessagePack extension type code of a service reference.</summary>
    public const sbyte ExtensionType = 82;

    /// <summary>The MessagePack extension type code of a reference to one of the receiver's own exports.</summary>
    public const sbyte ReceiverHostedExtensionType = 83;

    /// <summary>The shared instance.</summary>
    public static readonly RpcServiceReferenceFormatter<TService> Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, TService value)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        var table = RpcCapabilityContext.Current
            ?? throw new RpcException(RpcStatusCode.InvalidPayload, $"A {typeof(TService).Name} can only be passed by reference over a transport that supports it.");
        var reference = table.Export(value);
        writer.WriteExtensionFormatHeader(new ExtensionHeader(reference.ReceiverHosted ? ReceiverHostedExtensionType : ExtensionType, 4));
        var span = writer.GetSpan(4);
        BinaryPrimitives.WriteUInt32BigEndian(span, reference.Id);
        writer.Advance(4);
    }

    /// <inheritdoc />
    public TService Deserialize(ref MessagePackReader reader)
    {
        if (reader.TryReadNil())
        {
            return null!;
        }

        var header = reader.ReadExtensionFormatHeader();
        if (header.TypeCode is not (ExtensionType or ReceiverHostedExtensionType) || header.Length != 4)
        {
            throw new MessagePackSerializationException($"Expected a service reference, found extension {header.TypeCode} of {header.Length} bytes.");
        }

        var bytes = reader.ReadRaw(4);
        Span<byte> id = stackalloc byte[4];
        System.Buffers.BuffersExtensions.CopyTo(bytes, id);
        var table = RpcCapabilityContext.Current
            ?? throw new RpcException(RpcStatusCode.InvalidPayload, $"A {typeof(TService).Name} reference arrived outside a transport that supports it.");
        return table.Import<TService>(new RpcCapabilityReference(BinaryPrimitives.ReadUInt32BigEndian(id), header.TypeCode == ReceiverHostedExtensionType));
    }
}
