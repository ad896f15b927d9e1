using System.Net.Security;

namespace RpcGen.Security;

/// <summary>
/// TLS 1.3 cipher-suite orders for <see cref="RpcTlsOptions.CipherSuites"/>. Every TLS 1.3 suite is
/// sound; the orders differ in speed. ChaCha20-Poly1305 runs at the same speed on any CPU and in
/// constant time without hardware help, so it is the default; on CPUs with AES instructions
/// (<c>System.Runtime.Intrinsics.X86.Aes.IsSupported</c>, most x64 and arm64 servers) AES-128-GCM
/// moves bulk data faster (see the README's Security section for the measured difference).
/// </summary>
public static class RpcTlsCipherSuites
{
    /// <summary>ChaCha20-Poly1305, then AES-256-GCM, then AES-128-GCM: the default.</summary>
    public static IReadOnlyList<TlsCipherSuite> ChaCha20First { get; } =
    [
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
    ];

    /// <summary>AES-128-GCM, then AES-256-GCM, then ChaCha20-Poly1305: for bulk transfer on CPUs with AES instructions.</summary>
    public static IReadOnlyList<TlsCipherSuite> AesGcmFirst { get; } =
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ];
}
