using System.Net.Sockets;

namespace RpcGen.Links;

/// <summary>
/// Decides whether a server may bind a Unix socket at a path where a file already exists. Binding
/// fails while any file is there, and a socket file outlives the process that made it, so a stale
/// one must be removed; but deleting the path blindly would let a second server take over the
/// address of a live one (whose clients would then reach the newcomer), or destroy a user's file
/// given as the path by mistake. So:
/// <list type="bullet">
/// <item>nothing there: bind;</item>
/// <item>a socket that accepts a connection: a live server owns it; refuse ("address in use");</item>
/// <item>a socket that refuses connections: left by a process that died; remove it and bind;</item>
/// <item>anything else (a regular file, a directory): refuse, naming it; never delete it.</item>
/// </list>
/// </summary>
/// <remarks>
/// Two servers starting on the same stale path at the same moment can both find it stale; the
/// second bind then fails with "address in use" from the operating system, which is still a refusal.
/// A named pipe (FIFO) at the path is not recognised: opening it to check its type would block.
/// </remarks>
internal static class UnixSocketPath
{
    /// <summary>Makes <paramref name="path"/> free to bind, or throws <see cref="IOException"/> saying why it is not.</summary>
    public static void ClaimForListening(string path)
    {
        if (Directory.Exists(path))
        {
            throw new IOException($"Cannot listen on unix:{path}: it is a directory, not a socket; it was left alone.");
        }

        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return;
        }

        // A socket file has no length; anything with content is somebody's data.
        if (file.Length > 0)
        {
            throw NotASocket(path);
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"Cannot listen on unix:{path}: address in use (a server accepts connections there).");
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nobody listens. Linux answers the same for an empty regular file, so check below.
            }
        }

        if (!IsSocket(path))
        {
            throw NotASocket(path);
        }

        File.Delete(path);
    }

    private static IOException NotASocket(string path) =>
        new($"Cannot listen on unix:{path}: a file that is not a socket exists there; it was left alone. Remove it or choose another path.");

    /// <summary>
    /// Whether the (empty) file at <paramref name="path"/> is a socket. .NET does not expose the file
    /// type, but opening a socket as a file fails (ENXIO) where opening a regular file succeeds.
    /// </summary>
    private static bool IsSocket(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            // Not ours to read, so certainly not ours to delete.
            return false;
        }
    }
}
