using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RpcGen.Security;

namespace RpcGen.Links;

/// <summary>
/// Opens links by address: <c>tcp://HOST:PORT</c>, <c>unix:PATH</c>, <c>memory:NAME</c>, and with
/// <see cref="RpcTlsOptions"/> <c>tls://HOST:PORT</c> and <c>tls+unix:PATH</c> (TLS 1.3).
/// </summary>
public static class RpcLinks
{
    private static readonly ConcurrentDictionary<string, MemoryListener> s_memoryListeners = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, IRpcLinkProvider> s_providers = new(StringComparer.OrdinalIgnoreCase);
    private static readonly string[] s_builtInSchemes = ["tcp", "tls", "unix", "tls+unix", "memory"];

    /// <summary>
    /// Adds <paramref name="provider"/> for its <see cref="IRpcLinkProvider.Schemes"/>, process-wide.
    /// Registering the same provider again is a no-op.
    /// </summary>
    /// <exception cref="InvalidOperationException">A scheme is built in or already taken by another provider.</exception>
    public static void Register(IRpcLinkProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        foreach (var scheme in provider.Schemes)
        {
            if (string.IsNullOrEmpty(scheme) || scheme.Contains(':', StringComparison.Ordinal) || s_builtInSchemes.Contains(scheme, StringComparer.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"'{scheme}' cannot be registered as a link scheme: it is empty, holds a colon, or is built in.");
            }

            var taken = s_providers.GetOrAdd(scheme, provider);
            if (!ReferenceEquals(taken, provider) && taken.GetType() != provider.GetType())
            {
                throw new InvalidOperationException($"The link scheme '{scheme}' is already registered by {taken.GetType().FullName}.");
            }
        }
    }

    /// <summary>Whether an address of <paramref name="scheme"/> (without the colon) can be opened: built in or registered.</summary>
    public static bool IsKnownScheme(string scheme) =>
        s_builtInSchemes.Contains(scheme, StringComparer.OrdinalIgnoreCase) || s_providers.ContainsKey(scheme);

    private static bool TryGetProvider(string address, out IRpcLinkProvider provider)
    {
        provider = null!;
        var colon = address.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && !s_providers.IsEmpty && s_providers.TryGetValue(address[..colon], out provider!);
    }

    /// <summary>Connects to <paramref name="address"/> (plain addresses only; see the overload taking <see cref="RpcTlsOptions"/> for <c>tls://</c>).</summary>
    /// <exception cref="RpcException">With <see cref="RpcStatusCode.Disconnected"/> when nothing listens there.</exception>
    public static ValueTask<RpcLink> ConnectAsync(string address, RpcLimits? limits = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(address, limits, tls: null, cancellationToken);

    /// <summary>
    /// Connects to <paramref name="address"/>: <c>tcp://HOST:PORT</c>, <c>unix:PATH</c>,
    /// <c>memory:NAME</c>, or with <paramref name="tls"/> <c>tls://HOST:PORT</c> and
    /// <c>tls+unix:PATH</c>. A plain address stays plain even when <paramref name="tls"/> is given.
    /// </summary>
    /// <exception cref="RpcException">
    /// <see cref="RpcStatusCode.Disconnected"/> when nothing listens there;
    /// <see cref="RpcStatusCode.PermissionDenied"/> when the TLS server refused this client or this
    /// client refused the server (the message says which and why).
    /// </exception>
    /// <exception cref="InvalidOperationException">A TLS address without <paramref name="tls"/>.</exception>
    public static async ValueTask<RpcLink> ConnectAsync(string address, RpcLimits? limits, RpcTlsOptions? tls, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        limits ??= RpcLimits.Default;
        if (TryGetProvider(address, out var provider))
        {
            return await provider.ConnectAsync(address, new RpcLinkContext { Limits = limits, Tls = tls }, cancellationToken).ConfigureAwait(false);
        }

        var parsed = RpcAddress.Parse(address);
        if (parsed.IsTls && tls is null)
        {
            throw new InvalidOperationException($"{address} is a TLS address: give RpcTlsOptions (the CA to trust and, for mutual TLS, this client's certificate).");
        }

        if (parsed.Scheme == RpcAddressScheme.Memory)
        {
            if (!s_memoryListeners.TryGetValue(parsed.Path, out var listener))
            {
                throw new RpcException(RpcStatusCode.Disconnected, $"Nothing listens on {address}.");
            }

            return listener.Connect(limits.MaxPendingBytes);
        }

        Socket socket;
        if (parsed.IsUnix)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(parsed.Path), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                var why = File.Exists(parsed.Path) || Directory.Exists(parsed.Path) ? ex.Message : $"the socket file {parsed.Path} does not exist";
                throw new RpcException(RpcStatusCode.Disconnected, $"Cannot connect to {address}: {why}", ex);
            }
        }
        else
        {
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(parsed.Host, parsed.Port, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                throw new RpcException(RpcStatusCode.Disconnected, $"Cannot connect to {address}: {ex.Message}", ex);
            }
        }

        var local = parsed.IsUnix ? parsed + "#client" : parsed.IsTls ? FormatTls(socket.LocalEndPoint) : FormatTcp(socket.LocalEndPoint);
        if (!parsed.IsTls)
        {
            return new SocketLink(socket, local, parsed.ToString(), limits.MaxPendingBytes);
        }

        if (socket.ProtocolType == ProtocolType.Tcp)
        {
            socket.NoDelay = true;
        }

        return await TlsHandshake.ConnectAsync(socket, parsed.ToString(), local, tls!, limits.MaxPendingBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts listening on <paramref name="address"/>. For TCP, port 0 picks a free port; read it from <see cref="RpcLinkListener.Address"/>.</summary>
    public static RpcLinkListener Listen(string address, RpcLimits? limits = null) => Listen(address, limits, tls: null);

    /// <summary>
    /// Starts listening on <paramref name="address"/>; <c>tls://</c> and <c>tls+unix:</c> need
    /// <paramref name="tls"/>. A TLS listener runs each handshake within
    /// <see cref="RpcLimits.HandshakeTimeout"/> on <paramref name="timeProvider"/> and hands out only
    /// links whose handshake succeeded.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// A TLS address without <paramref name="tls"/>, TLS options that cannot work, or a read-only
    /// (lockdown) known-keys file that lists nobody, so no client could ever connect.
    /// </exception>
    public static RpcLinkListener Listen(string address, RpcLimits? limits, RpcTlsOptions? tls, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        limits ??= RpcLimits.Default;
        if (TryGetProvider(address, out var provider))
        {
            return provider.Listen(address, new RpcLinkContext
            {
                Limits = limits,
                Tls = tls,
                Logger = logger ?? NullLogger.Instance,
                TimeProvider = timeProvider ?? TimeProvider.System,
            });
        }

        var parsed = RpcAddress.Parse(address);
        TlsServerContext? context = null;
        if (parsed.IsTls)
        {
            context = CreateServerContext(address, tls, limits, logger ?? NullLogger.Instance);
        }

        switch (parsed.Scheme)
        {
            case RpcAddressScheme.Memory:
            {
                var listener = new MemoryListener(parsed.Path);
                if (!s_memoryListeners.TryAdd(parsed.Path, listener))
                {
                    throw new InvalidOperationException($"Something already listens on {address}.");
                }

                return listener;
            }

            case RpcAddressScheme.Unix or RpcAddressScheme.TlsUnix:
            {
                UnixSocketPath.ClaimForListening(parsed.Path);
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Bind(new UnixDomainSocketEndPoint(parsed.Path));
                socket.Listen(512);
                return context is null
                    ? new SocketListener(socket, "unix:" + parsed.Path, limits.MaxPendingBytes, parsed.Path)
                    : new TlsListener(socket, "tls+unix:" + parsed.Path, parsed.Path, context, limits, timeProvider ?? TimeProvider.System);
            }

            default:
            {
                var ip = parsed.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(parsed.Host);
                var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(ip, parsed.Port));
                socket.Listen(512);
                return context is null
                    ? new SocketListener(socket, FormatTcp(socket.LocalEndPoint), limits.MaxPendingBytes, unixPath: null)
                    : new TlsListener(socket, FormatTls(socket.LocalEndPoint), unixPath: null, context, limits, timeProvider ?? TimeProvider.System);
            }
        }
    }

    private static TlsServerContext CreateServerContext(string address, RpcTlsOptions? tls, RpcLimits limits, ILogger logger)
    {
        if (tls is null)
        {
            throw new InvalidOperationException($"{address} is a TLS address: give RpcTlsOptions (the server's certificate and the CA its clients must chain to).");
        }

        tls.Validate(server: true);
        RpcKnownKeys? known = null;
        if (tls.KnownKeysPath is not null)
        {
            known = RpcKnownKeys.Open(tls.KnownKeysPath);
            if (known.IsLockdown)
            {
                if (known.Keys.Count == 0)
                {
                    throw new InvalidOperationException($"The known client keys file {known.Path} is read-only (lockdown) and lists no key: no client could ever connect. Add keys (rpcgen keys trust) or make it writable to record clients on first use.");
                }

                TlsLog.Lockdown(logger, known.Path, known.Keys.Count);
            }
        }

        if (tls.Posture == RpcTlsPosture.SkipClientVerification)
        {
            TlsLog.SkippingClientVerification(logger, address);
        }

        var certificate = SslStreamCertificateContext.Create(tls.Certificate!, additionalCertificates: null, offline: true);
        return new TlsServerContext(tls, certificate, known, logger, limits.HandshakeTimeout);
    }

    /// <summary>Creates a connected pair of in-memory links without a listener.</summary>
    public static (RpcLink Client, RpcLink Server) CreateMemoryPair(string name = "pair", RpcLimits? limits = null) =>
        MemoryLink.CreatePair(name, (limits ?? RpcLimits.Default).MaxPendingBytes);

    internal static string FormatTcp(EndPoint? endPoint) => Format("tcp://", endPoint);

    internal static string FormatTls(EndPoint? endPoint) => Format("tls://", endPoint);

    private static string Format(string scheme, EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } ip => $"{scheme}[{ip.Address}]:{ip.Port}",
        IPEndPoint ip => $"{scheme}{ip.Address}:{ip.Port}",
        _ => scheme + "?",
    };

    private sealed class SocketListener(Socket socket, string address, int maxPendingBytes, string? unixPath) : RpcLinkListener
    {
        public override string Address => address;

        public override async ValueTask<RpcLink?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                var accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                var remote = unixPath is null ? FormatTcp(accepted.RemoteEndPoint) : address + "#peer";
                return new SocketLink(accepted, address, remote, maxPendingBytes, PeerCredentials.TryRead(accepted));
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted })
            {
                return null;
            }
        }

        public override ValueTask DisposeAsync()
        {
            socket.Dispose();
            if (unixPath is not null)
            {
                try
                {
                    File.Delete(unixPath);
                }
                catch (IOException)
                {
                    // Someone else removed or replaced it; nothing of ours to clean.
                }
            }

            return default;
        }
    }

    private sealed class MemoryListener(string name) : RpcLinkListener
    {
        private readonly Channel<RpcLink> _pending = Channel.CreateUnbounded<RpcLink>();

        public override string Address => "memory:" + name;

        public RpcLink Connect(int maxPendingBytes)
        {
            var (client, server) = MemoryLink.CreatePair(name, maxPendingBytes);
            if (!_pending.Writer.TryWrite(server))
            {
                throw new RpcException(RpcStatusCode.Disconnected, $"Nothing listens on {Address}.");
            }

            return client;
        }

        public override async ValueTask<RpcLink?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await _pending.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return null;
            }
        }

        public override ValueTask DisposeAsync()
        {
            s_memoryListeners.TryRemove(new KeyValuePair<string, MemoryListener>(name, this));
            _pending.Writer.TryComplete();
            return default;
        }
    }
}
