using System.Net.Sockets;

namespace RpcGen.Limits;

/// <summary>What an accept loop does when accepting fails for lack of resources: wait, then retry.</summary>
internal static class AcceptBackoff
{
    /// <summary>How long an accept loop waits after running out of resources.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(100);

    /// <summary>Whether <paramref name="error"/> says the process or system is out of descriptors or buffers (EMFILE, ENFILE, ENOBUFS, ENOMEM).</summary>
    public static bool IsOutOfResources(SocketException error) =>
        error.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable
        || error.NativeErrorCode is 23 or 24 or 12;

    /// <summary>Waits <see cref="Delay"/> (real time: it is a back-off, not a limit); false when stopping.</summary>
    public static async Task<bool> WaitAsync(CancellationToken stopping)
    {
        try
        {
            await Task.Delay(Delay, stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// What an accept loop does after <paramref name="error"/>: out of descriptors or buffers, it
    /// logs and waits <see cref="Delay"/> (retrying at once would spin a core and starve the
    /// connections that could free them); any other failure (a client that reset before it was
    /// accepted) is logged and must not stop the loop. False when <paramref name="stopping"/> fired.
    /// </summary>
    public static async Task<bool> ContinueAfterAsync(Exception error, Microsoft.Extensions.Logging.ILogger logger, string address, CancellationToken stopping)
    {
        if (error is SocketException socketError && IsOutOfResources(socketError))
        {
            RpcGen.Logging.RpcLog.AcceptBackingOff(logger, address, Delay, error);
            return await WaitAsync(stopping).ConfigureAwait(false);
        }

        RpcGen.Logging.RpcLog.AcceptFailed(logger, address, error);
        return true;
    }
}
