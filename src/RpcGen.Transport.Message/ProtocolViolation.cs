namespace RpcGen.Transport.Message;

/// <summary>A broken protocol rule: the connection is aborted with this message.</summary>
internal sealed class ProtocolViolation(string message) : Exception(message);
