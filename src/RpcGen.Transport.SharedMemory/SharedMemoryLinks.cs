using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory;

/// <summary>The one call that makes <c>shm:PATH</c> addresses work for every protocol in the process.</summary>
public static class SharedMemoryLinks
{
    /// <summary>
    /// Registers the <c>shm</c> scheme with <see cref="RpcLinks"/>, process-wide: from then on
    /// <c>RpcServer.StartAsync("shm:/run/app.sock")</c> and <c>RpcClient.ConnectAsync("shm:/run/app.sock")</c>
    /// (and the capability transport) run over shared memory. Calling it again is a no-op; the
    /// options of the first call stay in force.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux (memfd, futex and SCM_RIGHTS are Linux facilities here).</exception>
    public static void Register(SharedMemoryOptions? options = null)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The shared-memory transport runs on Linux.");
        }

        RpcLinks.Register(new SharedMemoryLinkProvider(options));
    }
}
