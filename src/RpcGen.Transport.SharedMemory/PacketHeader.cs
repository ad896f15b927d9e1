namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// The 16-byte header at the start of every packet window (flipcall's layout), and the legal values
/// of its state word. Both processes write this header, so every value read from it is untrusted:
/// readers load each field once, then check it.
/// <code>
/// offset 0  int32  connection state: ClientActive (0), ServerActive (1) or Shutdown (2); the futex word
/// offset 4  uint32 datagram length, written by the side handing control over
/// offset 8  int32  sleeper hint: 1 while the inactive side may be in FUTEX_WAIT, so a hand-off knows to wake it
/// offset 12 int32  reserved, zero; in a link's lane window, the doorbell of that direction's receiving thread
/// </code>
/// </summary>
public static class PacketHeader
{
    /// <summary>Header length in bytes; the datagram starts here.</summary>
    public const int Bytes = 16;

    /// <summary>The client holds control. Zero, so a fresh (zero-filled) window starts with the client active.</summary>
    public const int ClientActive = 0;

    /// <summary>The server holds control.</summary>
    public const int ServerActive = 1;

    /// <summary>Either side shut the window down; terminal.</summary>
    public const int Shutdown = 2;

    internal const int StateOffset = 0;
    internal const int LengthOffset = 4;
    internal const int SleeperOffset = 8;
    internal const int DoorbellOffset = 12;
}
