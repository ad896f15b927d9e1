namespace RpcGen.Limits;

/// <summary>
/// Counts a server's open connections, in all and per remote IP address, and refuses one that
/// would go over <see cref="RpcLimits.MaxConnections"/> or <see cref="RpcLimits.MaxConnectionsPerAddress"/>.
/// </summary>
/// <remarks>
/// Every admitted connection is released exactly once, when it has closed; the counts are
/// therefore what the server holds, never what it once accepted. One lock guards both counts.
/// </remarks>
internal sealed class ConnectionAdmission(RpcLimits limits)
{
    private readonly Dictionary<string, int> _perAddress = new(StringComparer.Ordinal);
    private int _total;

    /// <summary>Connections admitted and not yet released.</summary>
    public int Count => Volatile.Read(ref _total);

    /// <summary>Admits a connection from <paramref name="remoteAddress"/>, or says why not.</summary>
    public bool TryAdmit(string remoteAddress, out string? refusal)
    {
        var key = AddressKey(remoteAddress);
        lock (_perAddress)
        {
            if (_total >= limits.MaxConnections)
            {
                refusal = $"The server already has {limits.MaxConnections} connections (RpcLimits.MaxConnections).";
                return false;
            }

            if (key is not null)
            {
                _perAddress.TryGetValue(key, out var fromThere);
                if (fromThere >= limits.MaxConnectionsPerAddress)
                {
                    refusal = $"The server already has {limits.MaxConnectionsPerAddress} connections from {key} (RpcLimits.MaxConnectionsPerAddress).";
                    return false;
                }

                _perAddress[key] = fromThere + 1;
            }

            _total++;
            refusal = null;
            return true;
        }
    }

    /// <summary>Gives back what <see cref="TryAdmit"/> took for a connection that has closed.</summary>
    public void Release(string remoteAddress)
    {
        var key = AddressKey(remoteAddress);
        lock (_perAddress)
        {
            _total--;
            if (key is not null && _perAddress.TryGetValue(key, out var fromThere))
            {
                if (fromThere <= 1)
                {
                    _perAddress.Remove(key);
                }
                else
                {
                    _perAddress[key] = fromThere - 1;
                }
            }
        }
    }

    /// <summary>The IP address of a <c>tcp://HOST:PORT</c> or <c>tls://HOST:PORT</c> remote address; null for other schemes (no address to count by).</summary>
    internal static string? AddressKey(string remoteAddress)
    {
        // tls:// is as long as tcp://, so the slicing below serves both.
        if (!remoteAddress.StartsWith("tcp://", StringComparison.Ordinal) && !remoteAddress.StartsWith("tls://", StringComparison.Ordinal))
        {
            return null;
        }

        var colon = remoteAddress.LastIndexOf(':');
        return colon > "tcp://".Length ? remoteAddress["tcp://".Length..colon] : remoteAddress["tcp://".Length..];
    }
}
