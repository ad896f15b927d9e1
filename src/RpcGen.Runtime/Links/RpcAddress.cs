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
}

/// <summary>
/// A parsed link address: <c>tcp://127.0.0.1:5000</c> (port 0 picks a free port when listening),
/// <c>tcp://[::1]:5000</c>, <c>unix:/tmp/app.sock</c> or <c>memory:name</c>.
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

        throw new FormatException($"'{address}' is not an RpcGen address. Use tcp://HOST:PORT, unix:PATH or memory:NAME.");
    }

    /// <summary>Parses <paramref name="address"/> without throwing.</summary>
    public static bool TryParse(string address, out RpcAddress parsed)
    {
        parsed = null!;
        if (string.IsNullOrWhiteSpace(address))
        {
            return false;
        }

        if (address.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = address["tcp://".Length..].TrimEnd('/');
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

            parsed = new RpcAddress(RpcAddressScheme.Tcp, host, port, string.Empty);
            return true;
        }

        if (address.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            var path = address["unix:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                path = path[2..];
            }

            if (path.Length == 0)
            {
                return false;
            }

            parsed = new RpcAddress(RpcAddressScheme.Unix, string.Empty, 0, path);
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

    /// <summary>Formats the address back into its string form.</summary>
    public override string ToString() => Scheme switch
    {
        RpcAddressScheme.Tcp => IPAddress.TryParse(Host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"tcp://[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
            : $"tcp://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}",
        RpcAddressScheme.Unix => "unix:" + Path,
        _ => "memory:" + Path,
    };
}
