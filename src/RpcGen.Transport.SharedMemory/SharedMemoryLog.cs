using Microsoft.Extensions.Logging;

namespace RpcGen.Transport.SharedMemory;

/// <summary>Log messages of the shared-memory transport. Event ids are stable: 5000-5099.</summary>
internal static partial class SharedMemoryLog
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Debug, Message = "Shared-memory link {Address}: connected, {WindowsPerDirection} windows of {WindowBytes} bytes per direction")]
    public static partial void Connected(ILogger logger, string address, int windowsPerDirection, int windowBytes);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Shared-memory link {Address}: the peer hung up the rendezvous socket")]
    public static partial void PeerHungUp(ILogger logger, string address);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Shared-memory link {Address} closed: {Reason}")]
    public static partial void Failed(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Shared-memory listener {Address}: rendezvous with a client failed: {Reason}")]
    public static partial void RendezvousFailed(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Shared-memory listener {Address}: hung up on a new client: {Reason}")]
    public static partial void ClientRefused(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Debug, Message = "Shared-memory listener {Address}: a client's memory file was released; {Held} client(s) hold {MappedBytes} bytes")]
    public static partial void ClientReleased(ILogger logger, string address, int held, long mappedBytes);
}
