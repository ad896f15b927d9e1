namespace RpcGen;

/// <summary>Describes a service contract: its name and its 64-bit wire id.</summary>
public sealed class RpcServiceInfo
{
    /// <summary>Creates a service description. Generated code calls this once per contract.</summary>
    /// <param name="name">The full name of the contract interface, e.g. <c>Acme.IGreeter</c>.</param>
    /// <param name="id">The wire id: pinned with <see cref="RpcServiceAttribute"/> or derived from the name.</param>
    public RpcServiceInfo(string name, ulong id)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Id = id;
    }

    /// <summary>The full name of the contract interface.</summary>
    public string Name { get; }

    /// <summary>The 64-bit service id sent in each request frame.</summary>
    public ulong Id { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} (0x{Id:x16})";
}
