using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RpcGen.Links;
using RpcGen.Security;

namespace RpcGen.Transport.Flow;

/// <summary>
/// How a <see cref="FlowManager"/> reaches addresses of one scheme: resolve, dial, listen. Register
/// your own with <see cref="FlowManager.RegisterProtocol"/>; <c>tcp</c>, <c>unix</c>, <c>memory</c>,
/// <c>tls</c> and <c>tls+unix</c> are built in (over <see cref="RpcLinks"/>), and so is every scheme
/// registered with <see cref="RpcLinks.Register"/> (<c>shm</c>, once <c>SharedMemoryLinks.Register</c> ran).
/// </summary>
public interface IFlowProtocol
{
    /// <summary>
    /// Turns <paramref name="address"/> into the address to dial (a host name into an IP address);
    /// fails with <see cref="FlowErrorCode.ResolveFailed"/>. The result is also the cache key.
    /// </summary>
    ValueTask<string> ResolveAsync(string address, CancellationToken cancellationToken);

    /// <summary>Opens a link to a resolved address; fails with <see cref="FlowErrorCode.DialFailed"/>.</summary>
    ValueTask<RpcLink> DialAsync(string address, FlowProtocolContext context, CancellationToken cancellationToken);

    /// <summary>Starts listening on <paramref name="address"/>.</summary>
    RpcLinkListener Listen(string address, FlowProtocolContext context);
}

/// <summary>What a manager passes to an <see cref="IFlowProtocol"/>.</summary>
public sealed class FlowProtocolContext
{
    /// <summary>The link limits (pending bytes, handshake timeout).</summary>
    public RpcLimits LinkLimits { get; init; } = RpcLimits.Default;

    /// <summary>TLS options for protocols that carry TLS; null when none were given.</summary>
    public RpcTlsOptions? Tls { get; init; }

    /// <summary>Where a listener logs (refused and timed-out TLS handshakes among others): the manager's logger.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>The clock a listener measures handshake deadlines on: the manager's.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>
/// The built-in protocols and, with <paramref name="registered"/>, a scheme another assembly
/// registered with <see cref="RpcLinks"/> (whose addresses <see cref="RpcAddress"/> does not parse);
/// all carried by <see cref="RpcLinks"/>.
/// </summary>
internal sealed class LinkProtocol(string scheme, bool registered = false) : IFlowProtocol
{
    public async ValueTask<string> ResolveAsync(string address, CancellationToken cancellationToken)
    {
        if (!RpcAddress.TryParse(address, out var parsed))
        {
            // A registered scheme (shm:PATH) has nothing to resolve: its provider parses and checks
            // the address when it dials, and the address as given is the cache key.
            if (registered && address.Length > scheme.Length + 1 && address.StartsWith(scheme + ":", StringComparison.OrdinalIgnoreCase))
            {
                return address;
            }

            throw new FlowException(FlowErrorCode.ResolveFailed, $"'{address}' is not a {scheme} address.");
        }

        if (!parsed.ToString().StartsWith(scheme + ":", StringComparison.OrdinalIgnoreCase))
        {
            throw new FlowException(FlowErrorCode.ResolveFailed, $"'{address}' is not a {scheme} address.");
        }

        if (parsed.Scheme is not (RpcAddressScheme.Tcp or RpcAddressScheme.Tls) || IPAddress.TryParse(parsed.Host, out _))
        {
            return parsed.ToString();
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(parsed.Host, cancellationToken).ConfigureAwait(false);
            var ip = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
                ?? throw new FlowException(FlowErrorCode.ResolveFailed, $"'{parsed.Host}' resolves to no address.");
            var host = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
            return $"{scheme}://{host}:{parsed.Port}";
        }
        catch (SocketException ex)
        {
            throw new FlowException(FlowErrorCode.ResolveFailed, $"Cannot resolve '{parsed.Host}': {ex.Message}", ex);
        }
    }

    public async ValueTask<RpcLink> DialAsync(string address, FlowProtocolContext context, CancellationToken cancellationToken)
    {
        try
        {
            return await RpcLinks.ConnectAsync(address, context.LinkLimits, context.Tls, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex is not FlowException)
        {
            throw new FlowException(ex.StatusCode == RpcStatusCode.PermissionDenied ? FlowErrorCode.Auth : FlowErrorCode.DialFailed, ex.Message, ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw new FlowException(FlowErrorCode.BadArg, ex.Message, ex);
        }
    }

    public RpcLinkListener Listen(string address, FlowProtocolContext context) =>
        RpcLinks.Listen(address, context.LinkLimits, context.Tls, context.Logger, context.TimeProvider);
}
