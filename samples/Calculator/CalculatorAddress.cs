namespace RpcGen.Samples.Calculator;

/// <summary>
/// Addresses as the C++ samples take them — <c>HOST:PORT</c> or <c>unix:PATH</c> — turned into the
/// link addresses of <see cref="RpcGen.Links.RpcLinks"/>, and back for printing.
/// </summary>
public static class CalculatorAddress
{
    /// <summary><c>unix:PATH</c> stays as it is; <c>HOST:PORT</c> becomes <c>tcp://HOST:PORT</c> (<c>*</c> listens on every interface).</summary>
    public static string ToLinkAddress(string address)
    {
        if (address.StartsWith("unix:", StringComparison.Ordinal))
        {
            return address;
        }

        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(address.AsSpan(colon + 1), out _))
        {
            throw new ArgumentException($"'{address}' is neither HOST:PORT nor unix:PATH.", nameof(address));
        }

        var host = address[..colon];
        return "tcp://" + (host == "*" ? "0.0.0.0" : host) + address[colon..];
    }

    /// <summary>A link address in the samples' form: <c>tcp://HOST:PORT</c> prints as <c>HOST:PORT</c>.</summary>
    public static string FromLinkAddress(string linkAddress) =>
        linkAddress.StartsWith("tcp://", StringComparison.Ordinal) ? linkAddress["tcp://".Length..] : linkAddress;
}
