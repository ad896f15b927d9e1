namespace RpcGen.Security;

/// <summary>How strictly a TLS server checks its clients. The client always checks the server.</summary>
public enum RpcTlsPosture
{
    /// <summary>
    /// The default: every client must present a certificate signed by the configured CA (and pass the
    /// known-keys file, when there is one), or the handshake fails.
    /// </summary>
    MutualTls = 0,

    /// <summary>
    /// The server acts like an HTTPS server: the link is encrypted and the server proves itself, but
    /// clients need no certificate (one they present is still checked and reported). Logs a warning
    /// when the server starts.
    /// </summary>
    SkipClientVerification = 1,
}
