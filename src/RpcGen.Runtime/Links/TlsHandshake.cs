using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using RpcGen.Security;

namespace RpcGen.Links;

/// <summary>
/// Both sides of a TLS link's opening: the TLS 1.3 handshake (certificates checked against the
/// configured CA only, the client's also against the server's known keys), then one verdict byte
/// from the server, so a client the server refuses learns why at connect time rather than at its
/// first call.
/// </summary>
/// <remarks>
/// The verdict exists because in TLS 1.3 the client finishes its handshake before the server has
/// checked the client's certificate; a refusal would otherwise surface as a reset on the first read.
/// A client whose certificate fails the CA check is refused inside the handshake (a TLS alert); the
/// known-keys verdicts travel in the byte.
/// </remarks>
internal static class TlsHandshake
{
    private enum Verdict : byte
    {
        Admitted = 0x5a,
        UnknownKey = 1,
        KeyChanged = 2,
    }

    /// <summary>Runs the client side over a connected socket; the link returned is ready for a protocol.</summary>
    /// <exception cref="RpcException">
    /// <see cref="RpcStatusCode.PermissionDenied"/> when either side refused the other's certificate
    /// (the message says which and why); <see cref="RpcStatusCode.Disconnected"/> when the connection
    /// failed otherwise.
    /// </exception>
    public static async ValueTask<RpcLink> ConnectAsync(Socket socket, string address, string local, RpcTlsOptions options, int maxPendingBytes, CancellationToken cancellationToken)
    {
        options.Validate(server: false);
        var known = options.KnownKeysPath is null ? null : RpcKnownKeys.Open(options.KnownKeysPath);
        RpcPeerIdentity? server = null;
        string? refusal = null;
        var handshaken = false;
        var transport = new TlsSocketStream(socket);
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        var sslOptions = new SslClientAuthenticationOptions
        {
            TargetHost = options.ServerName,
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CipherSuitesPolicy = options.CreateCipherSuitesPolicy(),
            ClientCertificateContext = options.Certificate is null ? null : SslStreamCertificateContext.Create(options.Certificate, additionalCertificates: null, offline: true),
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is not X509Certificate2 presented)
                {
                    refusal = "the server presented no certificate";
                    return false;
                }

                var authority = RpcCertificates.VerifyChain(presented, options.CertificateAuthorities, out var error);
                if (authority is null)
                {
                    refusal = "the server's certificate was refused: " + error;
                    return false;
                }

                server = RpcCertificates.Describe(presented, authority);
                switch (known?.Check(server))
                {
                    case RpcKnownKeyDecision.Unknown:
                        refusal = $"the server's key {server.Fingerprint} ({server.Name}) is not in {known.Path}, which is read-only (lockdown)";
                        return false;
                    case RpcKnownKeyDecision.KeyChanged:
                        refusal = $"the server {server.Name} presented the key {server.Fingerprint}, not the one {known.Path} lists for it: refused as a changed key";
                        return false;
                    default:
                        return true;
                }
            },
        };

        try
        {
            await ssl.AuthenticateAsClientAsync(sslOptions, cancellationToken).ConfigureAwait(false);
            handshaken = true;
            var verdict = new byte[1];
            var read = await ssl.ReadAsync(verdict, cancellationToken).ConfigureAwait(false);
            switch (read == 0 ? (Verdict?)null : (Verdict)verdict[0])
            {
                case Verdict.Admitted:
                    return await WrapAsync(new StreamLink(ssl, local, address, maxPendingBytes, server, transport), options, isServer: false, cancellationToken).ConfigureAwait(false);
                case Verdict.UnknownKey:
                    throw new RpcException(RpcStatusCode.PermissionDenied, $"The server at {address} refused this client: its key {Fingerprint(options)} is not in the server's known keys, which are locked down.");
                case Verdict.KeyChanged:
                    throw new RpcException(RpcStatusCode.PermissionDenied, $"The server at {address} refused this client: the server's known keys list the name {Name(options)} with a different key than {Fingerprint(options)}.");
                case null:
                    // An admitted client always gets the verdict first: the server ended the handshake
                    // (a TLS alert reads as the end of the stream) because it refused our certificate.
                    throw RefusedByServer(address, options, "it closed the connection before admitting it");
                default:
                    throw new RpcException(RpcStatusCode.ProtocolError, $"The server at {address} does not speak RpcGen's TLS link (its first byte was 0x{verdict[0]:x2}).");
            }
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            if (refusal is not null)
            {
                throw new RpcException(RpcStatusCode.PermissionDenied, $"Cannot connect to {address}: {refusal}.", ex);
            }

            if (!handshaken)
            {
                // Not a verdict on our certificate (in TLS 1.3 that comes after our side finished):
                // no common protocol or cipher suite, or not a TLS server at all.
                throw new RpcException(RpcStatusCode.Disconnected, $"The TLS handshake with {address} failed: {ex.Message}", ex);
            }

            // The handshake went through on our side, then the server hung up: it refused our certificate.
            throw RefusedByServer(address, options, ex.Message, ex);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs the server side over an accepted socket. Returns the link, or null (after logging why and
    /// closing the socket) when the client was refused or the handshake failed. Cancelling
    /// <paramref name="cancellationToken"/> (the handshake timeout) closes the socket, so no read of the
    /// handshake outlives it.
    /// </summary>
    public static async Task<RpcLink?> AcceptAsync(Socket socket, string local, string remote, TlsServerContext context, int maxPendingBytes, CancellationToken cancellationToken)
    {
        var transport = new TlsSocketStream(socket);
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        RpcPeerIdentity? client = null;
        string? refusal = null;
        var options = context.Options;
        var sslOptions = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = context.Certificate,
            EnabledSslProtocols = SslProtocols.Tls13,
            ClientCertificateRequired = true,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CipherSuitesPolicy = options.CreateCipherSuitesPolicy(),
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is not X509Certificate2 presented)
                {
                    refusal = "the client presented no certificate";
                    return options.Posture == RpcTlsPosture.SkipClientVerification;
                }

                var authority = RpcCertificates.VerifyChain(presented, options.CertificateAuthorities, out var error);
                if (authority is null)
                {
                    refusal = $"{error} (key {RpcCertificates.Fingerprint(presented)})";
                    return options.Posture == RpcTlsPosture.SkipClientVerification;
                }

                client = RpcCertificates.Describe(presented, authority);
                return true;
            },
        };

        using var abort = cancellationToken.Register(static state => ((Socket)state!).Dispose(), socket);
        try
        {
            await ssl.AuthenticateAsServerAsync(sslOptions, cancellationToken).ConfigureAwait(false);
            var verdict = Verdict.Admitted;
            if (client is not null && context.KnownKeys is { } known)
            {
                switch (known.Check(client))
                {
                    case RpcKnownKeyDecision.Unknown:
                        verdict = Verdict.UnknownKey;
                        TlsLog.HandshakeRefused(context.Logger, remote, $"the client key {client.Fingerprint} ({client.Name}) is not in {known.Path}, which is read-only (lockdown)");
                        break;
                    case RpcKnownKeyDecision.KeyChanged:
                        verdict = Verdict.KeyChanged;
                        TlsLog.HandshakeRefused(context.Logger, remote, $"the client {client.Name} presented the key {client.Fingerprint}, not the one {known.Path} lists for it");
                        break;
                    case RpcKnownKeyDecision.Recorded:
                        TlsLog.KeyRecorded(context.Logger, known.Path, client.Name!, client.Email, client.Fingerprint!);
                        break;
                }
            }

            await ssl.WriteAsync(new[] { (byte)verdict }, cancellationToken).ConfigureAwait(false);
            await ssl.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (verdict != Verdict.Admitted)
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
                return null;
            }

            TlsLog.HandshakeDone(context.Logger, remote, ssl.SslProtocol, ssl.NegotiatedCipherSuite);
            var identity = client;
            if (PeerCredentials.TryRead(socket) is { } credentials)
            {
                identity = (identity ?? new RpcPeerIdentity()) with { ProcessId = credentials.ProcessId, UserId = credentials.UserId, GroupId = credentials.GroupId };
            }

            var link = new StreamLink(ssl, local, remote, maxPendingBytes, identity, transport);
            try
            {
                return await WrapAsync(link, options, isServer: true, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                TlsLog.HandshakeRefused(context.Logger, remote, $"{ex.Message} (client {identity?.Name ?? "without certificate"} {identity?.Fingerprint})");
                return null;
            }
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                TlsLog.HandshakeTimedOut(context.Logger, remote, context.Timeout);
            }
            else if (refusal is not null)
            {
                TlsLog.HandshakeRefused(context.Logger, remote, refusal);
            }
            else
            {
                TlsLog.HandshakeFailed(context.Logger, remote, ex.Message);
            }

            return null;
        }
    }

    private static async ValueTask<RpcLink> WrapAsync(RpcLink link, RpcTlsOptions options, bool isServer, CancellationToken cancellationToken)
    {
        if (options.InnerLayer is not { } layer)
        {
            return link;
        }

        try
        {
            return await layer.WrapAsync(link, isServer, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            link.Abort();
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static RpcException RefusedByServer(string address, RpcTlsOptions options, string detail, Exception? inner = null) => new(
        RpcStatusCode.PermissionDenied,
        $"The server at {address} refused this client during the TLS handshake: " +
        (options.Certificate is null
            ? "it requires a client certificate and none was configured (RpcTlsOptions.Certificate)"
            : $"it does not accept the client certificate {RpcCertificates.Name(options.Certificate)} ({Fingerprint(options)}); is it signed by the server's CA?") +
        $" ({detail}).",
        inner);

    private static string Fingerprint(RpcTlsOptions options) => options.Certificate is { } certificate ? RpcCertificates.Fingerprint(certificate) : "(none)";

    private static string Name(RpcTlsOptions options) => options.Certificate is { } certificate ? RpcCertificates.Name(certificate) : "(none)";
}
