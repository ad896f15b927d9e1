using System.Security.Cryptography;
using NSec.Cryptography;
using RpcGen.Links;

namespace RpcGen.Security;

/// <summary>
/// The optional pre-shared-key inner layer (rpc25519's model), run inside TLS: both sides hold the
/// same 32-byte key; an ephemeral X25519 exchange, mixed with the key through HKDF-SHA256, keys a
/// ChaCha20-Poly1305 record layer, so a stolen TLS identity alone does not get in and the traffic
/// stays sealed if the outer layer breaks. A peer with another key is refused before any call is
/// read. Use it through <see cref="RpcTlsOptions.InnerLayer"/> on both sides.
/// </summary>
public sealed class RpcPskLayer : IRpcLinkLayer
{
    /// <summary>The pre-shared key length.</summary>
    public const int KeyLength = 32;

    private readonly byte[] _psk;

    /// <summary>A layer keyed with <paramref name="psk"/> (exactly 32 bytes, from a CSPRNG).</summary>
    public RpcPskLayer(ReadOnlySpan<byte> psk)
    {
        if (psk.Length != KeyLength)
        {
            throw new ArgumentException($"A pre-shared key is {KeyLength} bytes; this one has {psk.Length}.", nameof(psk));
        }

        _psk = psk.ToArray();
    }

    /// <summary>Reads a key file written by <see cref="CreateKeyFile"/> (exactly 32 bytes).</summary>
    public static RpcPskLayer FromFile(string path) => new(File.ReadAllBytes(path));

    /// <summary>Writes 32 random bytes to a new file at <paramref name="path"/> (mode 0600 on Unix); never overwrites an existing file.</summary>
    public static void CreateKeyFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        stream.Write(RandomNumberGenerator.GetBytes(KeyLength));
    }

    /// <inheritdoc />
    public async ValueTask<RpcLink> WrapAsync(RpcLink link, bool server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(link);
        try
        {
            return await HandshakeAsync(link, server, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException
            or RpcException { StatusCode: not RpcStatusCode.PermissionDenied })
        {
            // A peer that gave up first (it found our key wrong, or holds no inner layer) resets or
            // closes the connection, which the link under us may report as its own Disconnected; say
            // which handshake it broke, not only "connection reset". Our own refusals pass as they are.
            throw new RpcException(RpcStatusCode.PermissionDenied, $"The pre-shared-key handshake with {link.RemoteAddress} failed: {ex.Message} (does the peer hold the same pre-shared key?)", ex);
        }
    }

    private async ValueTask<RpcLink> HandshakeAsync(RpcLink link, bool server, CancellationToken cancellationToken)
    {
        var algorithm = KeyAgreementAlgorithm.X25519;
        using var ephemeral = Key.Create(algorithm);
        var ours = ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        await link.Output.WriteAsync(ours, cancellationToken).ConfigureAwait(false);
        var theirs = await PskLink.ReadExactlyAsync(link.Input, ours.Length, cancellationToken).ConfigureAwait(false);
        if (!PublicKey.TryImport(algorithm, theirs, KeyBlobFormat.RawPublicKey, out var peerKey) || peerKey is null)
        {
            throw new RpcException(RpcStatusCode.PermissionDenied, "The peer's pre-shared-key handshake is malformed.");
        }

        using var shared = algorithm.Agree(ephemeral, peerKey)
            ?? throw new RpcException(RpcStatusCode.PermissionDenied, "The peer sent a weak X25519 key.");
        var (clientKey, serverKey) = server ? (theirs, ours) : (ours, theirs);
        var info = new byte[PskLink.Label.Length + 64];
        PskLink.Label.CopyTo(info);
        clientKey.CopyTo(info, PskLink.Label.Length);
        serverKey.CopyTo(info, PskLink.Label.Length + 32);
        var keys = KeyDerivationAlgorithm.HkdfSha256.DeriveBytes(shared, _psk, info, 64);
        var (send, receive) = server ? (keys[32..], keys[..32]) : (keys[..32], keys[32..]);
        return await PskLink.StartAsync(link, send, receive, cancellationToken).ConfigureAwait(false);
    }
}
