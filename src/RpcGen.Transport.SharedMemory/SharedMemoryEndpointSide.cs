namespace RpcGen.Transport.SharedMemory;

/// <summary>Which side of a packet window an endpoint is (flipcall's EndpointSide).</summary>
public enum SharedMemoryEndpointSide
{
    /// <summary>Initially holds control; its first call is <see cref="SharedMemoryEndpoint.Connect"/>.</summary>
    Client,

    /// <summary>Initially waits for control; its first call is <see cref="SharedMemoryEndpoint.RecvFirst"/>.</summary>
    Server,
}
