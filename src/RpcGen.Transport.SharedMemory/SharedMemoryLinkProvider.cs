using System.Net.Sockets;
using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// Opens <c>shm:PATH</c> links: the server listens on the Unix socket at PATH, a client connects
/// there, receives its memory file and maps its packet windows (a ring per direction); the protocol's bytes then travel
/// through shared memory and the socket only signals liveness. Register with
/// <see cref="SharedMemoryLinks.Register"/>. Linux only.
/// </summary>
public sealed class SharedMemoryLinkProvider : IRpcLinkProvider
{
    /// <summary>The address scheme, <c>shm</c>.</summary>
    public const string Scheme = "shm";

    private readonly SharedMemoryOptions _options;

    /// <summary>Creates a provider with <paramref name="options"/> (window size and count, spin budget, peer timeout).</summary>
    public SharedMemoryLinkProvider(SharedMemoryOptions? options = null)
    {
        _options = options ?? SharedMemoryOptions.Default;
        _options.Validate();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Schemes { get; } = [Scheme];

    /// <inheritdoc />
    public async ValueTask<RpcLink> ConnectAsync(string address, RpcLinkContext context, CancellationToken cancellationToken)
    {
        var path = ParsePath(address);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        SharedMapping? mapping = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(context.Limits.HandshakeTimeout);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
            var hello = await Rendezvous.ReceiveHelloAsync(socket, timeout.Token).ConfigureAwait(false);
            using (hello.File)
            {
                mapping = SharedMapping.Map(new PacketWindowDescriptor(hello.File.FileDescriptor, hello.Offset, hello.MappingBytes));
            }

            var options = new SharedMemoryOptions { WindowBytes = hello.WindowBytes, WindowsPerDirection = hello.WindowsPerDirection, SpinBudget = _options.SpinBudget, PeerResponseTimeout = _options.PeerResponseTimeout };
            return await SharedMemoryLink.EstablishAsync(socket, mapping, options, isServer: false, context, $"{Scheme}:{path}#client", $"{Scheme}:{path}").ConfigureAwait(false);
        }
        catch (RpcException)
        {
            throw;
        }
        catch (Exception ex) when (ex is SocketException or IOException or InvalidDataException or OperationCanceledException)
        {
            socket.Dispose();
            mapping?.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            var why = ex is SocketException && !File.Exists(path) ? $"the socket file {path} does not exist" : ex.Message;
            throw new RpcException(RpcStatusCode.Disconnected, $"Cannot connect to {address}: {why}", ex);
        }
    }

    /// <inheritdoc />
    public RpcLinkListener Listen(string address, RpcLinkContext context) => new SharedMemoryListener(ParsePath(address), _options, context);

    private static string ParsePath(string address)
    {
        var path = address.StartsWith(Scheme + ":", StringComparison.OrdinalIgnoreCase) ? address[(Scheme.Length + 1)..] : "";
        if (path.Length == 0)
        {
            throw new ArgumentException($"A shared-memory address is shm:PATH, the path of the rendezvous Unix socket; got '{address}'.", nameof(address));
        }

        return path;
    }
}
