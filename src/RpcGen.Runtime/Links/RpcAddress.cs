using System.Globalization;
using System.Net;

namespace RpcGen.Links;

/// <summary>The kind of link an address names.</summary>
public enum RpcAddressScheme
{
    /// <summary><c>tcp://host:port</c></summary>
    Tcp,

    /// <summary><c>unix:/path/to.sock</c></summary>
    Unix,

    /// <summary><c>memory:name</c>, an in-process duplex pipe.</summary>
    Memory,

    /// <summary><c>tls://host:port</c>: TLS 1.3 over TCP (see <see cref="RpcGen.Security.RpcTlsOptions"/>).</summary>
    Tls,

    /// <summary><c>tls+unix:/path/to.sock</c>: TLS 1.3 over a Unix domain socket.</summary>
    TlsUnix,
}

/// <summary>
/// A parsed link address: <c>tcp://127.0.0.1:5000</c> (port 0 picks a free port when listening),
/// <c>tcp://[::1]:5000</c>, <c>unix:/tmp/app.sock</c>, <c>memory:name</c>, and their TLS forms
/// <c>tls://127.0.0.1:5000</c> and <c>tls+unix:/tmp/app.sock</c>.
/// </summary>
public sealed record RpcAddress(RpcAddressScheme Scheme, string Host, int Port, string Path)
{
    /// <summary>Parses <paramref name="address"/>; throws <see cref="FormatException"/> with the accepted forms when it is not one.</summary>
    public static RpcAddress Parse(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (TryParse(address, out var parsed))
        {
            return parsed;
        }

        throw new FormatException($"'{address}' is not an RpcGen address. Use tcp://HOST:PORT, tls://HOST:PORT, unix:PATH, tls+unix:PATH, memory:NAME, or a scheme registered with RpcLinks.Register.");
    }

    /// <summary>Parses <paramref name="address"/> without throwing.</summary>
    public static bool TryParse(string address, out RpcAddress parsed)
    {
        parsed = null!;
        if (string.IsNullOrWhiteSpace(address))
        {
            return false;
        }

        var tls = address.StartsWith("tls://", StringComparison.OrdinalIgnoreCase);
        if (tls || address.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = address["tcp://".Length..].TrimEnd('/'); // tls:// is as long
            var colon = rest.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(rest.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            {
                return false;
            }

            var host = rest[..colon];
            if (host.StartsWith('[') && host.EndsWith(']'))
            {
                host = host[1..^1];
            }

            if (host.Length == 0)
            {
                return false;
            }

            parsed = new RpcAddress(tls ? RpcAddressScheme.Tls : RpcAddressScheme.Tcp, host, port, string.Empty);
            return true;
        }

        var tlsUnix = address.StartsWith("tls+unix:", StringComparison.OrdinalIgnoreCase);
        if (tlsUnix || address.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            var path = address[(tlsUnix ? "tls+unix:" : "unix:").Length..];
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                path = path[2..];
            }

            if (path.Length == 0)
            {
                return false;
            }

            parsed = new RpcAddress(tlsUnix ? RpcAddressScheme.TlsUnix : RpcAddressScheme.Unix, string.Empty, 0, path);
            return true;
        }

        if (address.StartsWith("memory:", StringComparison.OrdinalIgnoreCase))
        {
            var name = address["memory:".Length..];
            if (name.Length == 0)
            {
                return false;
            }

            parsed = new RpcAddress(RpcAddressScheme.Memory, string.Empty, 0, name);
            return true;
        }

        return false;
    }

    /// <summary>Whether the address names a TLS link.</summary>
    public bool IsTls => Scheme is RpcAddressScheme.Tls or RpcAddressScheme.TlsUnix;

    /// <summary>Whether the address names a Unix domain socket (plain or TLS).</summary>
    public bool IsUnix => Scheme is RpcAddressScheme.Unix or RpcAddressScheme.TlsUnix;

    /// <summary>Formats the address back into its string form.</summary>
    public override string ToString() => Scheme switch
    {
        RpcAddressScheme.Tcp or RpcAddressScheme.Tls => IPAddress.TryParse(Host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"{SchemePrefix}[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
            : $"{SchemePrefix}{Host}:{Port.ToString(CultureInfo.InvariantCulture)}",
        _ => SchemePrefix + Path,
    };

    private string SchemePrefix => Scheme switch
    {
        RpcAddressScheme.Tcp => "tcp://",
        RpcAddressScheme.Tls => "tls://",
        RpcAddressScheme.Unix => "unix:",
        RpcAddressScheme.TlsUnix => "tls+unix:",
        _ => "memory:",
    };
}
