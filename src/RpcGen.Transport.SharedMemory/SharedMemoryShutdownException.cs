namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// An endpoint operation ended because this side or the peer shut the window down (flipcall's
/// ShutdownError). A <see cref="RpcStatusCode.Disconnected"/> error: nothing more can pass through the window.
/// </summary>
public sealed class SharedMemoryShutdownException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public SharedMemoryShutdownException()
        : base(RpcStatusCode.Disconnected, "The shared-memory window was shut down.")
    {
    }
}
