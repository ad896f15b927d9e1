using System.Net.Sockets;
using System.Runtime.InteropServices;
using RpcGen.Security;

namespace RpcGen.Links;

/// <summary>Reads who is at the other end of a Unix socket from the kernel (<c>SO_PEERCRED</c>, Linux).</summary>
internal static class PeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>The peer's pid, uid and gid as an identity, or null where the platform cannot tell.</summary>
    public static RpcPeerIdentity? TryRead(Socket socket)
    {
        if (!OperatingSystem.IsLinux() || socket.AddressFamily != AddressFamily.Unix)
        {
            return null;
        }

        try
        {
            // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            Span<byte> ucred = stackalloc byte[12];
            var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
            if (length < 12)
            {
                return null;
            }

            var fields = MemoryMarshal.Cast<byte, int>(ucred);
            return new RpcPeerIdentity { ProcessId = fields[0], UserId = fields[1], GroupId = fields[2] };
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
