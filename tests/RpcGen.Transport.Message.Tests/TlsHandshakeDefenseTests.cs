using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using RpcGen.Security;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// What peers that open TLS connections and never finish the handshake (silent, dripping, or
/// stalled inside the PSK layer) can make a server hold is bounded by
/// <see cref="RpcLimits.HandshakeTimeout"/> and <see cref="RpcLimits.MaxConnections"/> /
/// <see cref="RpcLimits.MaxConnectionsPerAddress"/>, each is logged, and mutual-TLS clients keep being
/// served (README, Limits and hostile input: the defenses table). Deadlines run on a fake clock.
/// </summary>
public class TlsHandshakeDefenseTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Theory]
    [MemberData(nameof(SecurityTests.TlsTransports), MemberType = typeof(SecurityTests))]
    public async Task Connections_that_never_finish_a_ClientHello_hold_a_bounded_number_of_handshakes_until_the_timeout_and_mutual_tls_clients_keep_working(string transport)
    {
        var pki = TestPki.Shared;
        var time = new FakeTimeProvider();
        var limits = new RpcLimits { MaxConnections = 4, MaxConnectionsPerAddress = 3, HandshakeTimeout = TimeSpan.FromSeconds(10) };
        var (server, _, logs) = await SecurityTests.StartAsync(SecurityTests.NewAddress(transport), pki.ServerTls(), limits: limits, time: time);
        await using var _server = server;
        var address = server.Addresses[0];
        await using var first = await SecurityTests.ConnectAsync(address, pki.ClientTls());
        Assert.Equal(3, await first.GetService<IScenarioService>().AddAsync(1, 2).AsTask().WaitAsync(Timeout));

        // Over TCP the attackers come from one address and fill its quota; over a Unix socket
        // (no address to count by) they fill the server's. Every other one drips a byte of a record header.
        var attackerCount = transport == "tls" ? limits.MaxConnectionsPerAddress : limits.MaxConnections;
        var attackers = new List<Socket>();
        try
        {
            for (var i = 0; i < attackerCount; i++)
            {
                var attacker = await ConnectRawAsync(address);
                attackers.Add(attacker);
                if (i % 2 == 1)
                {
                    await attacker.SendAsync(new byte[] { 0x16 });
                }
            }

            // The next one is closed before any handshake starts, and the server says which limit.
            await AssertClosedAtOnceAsync(address);

            var refusal = await logs.WaitForAsync("closed before its TLS handshake", Timeout);
            Assert.Contains(transport == "tls" ? "RpcLimits.MaxConnectionsPerAddress" : "RpcLimits.MaxConnections", refusal, StringComparison.Ordinal);

            // The client already connected is served, and over TCP a new client from another address gets in.
            Assert.Equal(5, await first.GetService<IScenarioService>().AddAsync(2, 3).AsTask().WaitAsync(Timeout));
            if (transport == "tls")
            {
                await using var second = await SecurityTests.ConnectAsync(address, pki.ClientTls());
                Assert.Equal("alice", (await second.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout))!.Name);
            }

            // Every attacker's deadline runs from its accept; past it each is closed with a log line.
            await logs.WaitForCountAsync("started; it has", attackerCount + (transport == "tls" ? 2 : 1), Timeout);
            time.Advance(limits.HandshakeTimeout);
            foreach (var attacker in attackers)
            {
                Assert.Equal(0, await SecurityTests.ReceiveOrResetAsync(attacker, new byte[16]));
            }

            await logs.WaitForCountAsync("did not finish within", attackerCount, Timeout);
            await using var late = await SecurityTests.ConnectAsync(address, pki.ClientTls());
            Assert.Equal(7, await late.GetService<IScenarioService>().AddAsync(3, 4).AsTask().WaitAsync(Timeout));
            Assert.Equal(9, await first.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));
        }
        finally
        {
            foreach (var attacker in attackers)
            {
                attacker.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_peer_that_drips_its_ClientHello_is_closed_at_the_deadline_however_steadily_its_bytes_arrive()
    {
        var pki = TestPki.Shared;
        var time = new FakeTimeProvider();
        var limits = new RpcLimits { HandshakeTimeout = TimeSpan.FromSeconds(5) };
        var (server, _, logs) = await SecurityTests.StartAsync(SecurityTests.NewAddress("tls"), pki.ServerTls(), limits: limits, time: time);
        await using var _server = server;
        using var dripper = await ConnectRawAsync(server.Addresses[0]);
        await logs.WaitForAsync("started; it has", Timeout);

        // A handshake record header, one byte a second: bytes keep coming, the deadline does not move.
        byte[] record = [0x16, 0x03, 0x01, 0x02, 0x00];
        for (var i = 0; i < record.Length; i++)
        {
            await dripper.SendAsync(record.AsMemory(i, 1));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(0, await SecurityTests.ReceiveOrResetAsync(dripper, new byte[16]));
        await logs.WaitForAsync("did not finish within", Timeout);
        await using var client = await SecurityTests.ConnectAsync(server.Addresses[0], pki.ClientTls());
        Assert.Equal("alice", (await client.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout))!.Name);
    }

    [Fact]
    public async Task A_client_that_finishes_TLS_and_stalls_in_the_psk_exchange_is_closed_at_the_same_deadline()
    {
        var pki = TestPki.Shared;
        var psk = RandomNumberGenerator.GetBytes(32);
        var time = new FakeTimeProvider();
        var limits = new RpcLimits { HandshakeTimeout = TimeSpan.FromSeconds(5) };
        var (server, _, logs) = await SecurityTests.StartAsync(SecurityTests.NewAddress("tls"), PskLayerTests.WithPsk(pki.ServerTls(), psk), limits: limits, time: time);
        await using var _server = server;

        // A real TLS 1.3 client with a good certificate that, once admitted, never starts the PSK layer.
        using var socket = await ConnectRawAsync(server.Addresses[0]);
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = RpcCertificates.DefaultServerName,
            EnabledSslProtocols = SslProtocols.Tls13,
            ClientCertificateContext = SslStreamCertificateContext.Create(pki.Client, additionalCertificates: null, offline: true),
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }).WaitAsync(Timeout);
        var verdict = new byte[1];
        Assert.Equal(1, await tls.ReadAsync(verdict).AsTask().WaitAsync(Timeout));
        Assert.Equal(0x5a, verdict[0]); // admitted: the server now waits in the PSK exchange

        time.Advance(limits.HandshakeTimeout);

        // The server may end its TLS session politely (a close_notify alert, a record of its own)
        // before the socket closes; those bytes are TLS's, so read past them to the end.
        var buffer = new byte[256];
        while (await SecurityTests.ReceiveOrResetAsync(socket, buffer) > 0)
        {
        }

        await logs.WaitForAsync("did not finish within", Timeout);

        await using var client = await RpcClient.ConnectAsync(server.Addresses[0], new RpcClientOptions { Tls = PskLayerTests.WithPsk(pki.ClientTls(), psk) }).WaitAsync(Timeout);
        Assert.Equal(5, await client.GetService<IScenarioService>().AddAsync(2, 3).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Over_flow_tls_a_silent_connection_is_closed_at_the_deadline_on_the_servers_clock_and_logged_to_its_logger()
    {
        // Before the fix a flow manager's TLS listener logged to nobody and timed handshakes on the
        // system clock, whatever logger and TimeProvider the server was given.
        RpcGen.Transport.Flow.FlowLinks.Register();
        var pki = TestPki.Shared;
        var time = new FakeTimeProvider();
        var limits = new RpcLimits { HandshakeTimeout = TimeSpan.FromSeconds(5) };
        var (server, _, logs) = await SecurityTests.StartAsync("flow+tls://127.0.0.1:0", pki.ServerTls(), limits: limits, time: time);
        await using var _server = server;
        using var silent = await ConnectRawAsync("tls://" + server.Addresses[0]["flow+tls://".Length..]);
        await logs.WaitForAsync("started; it has", Timeout);

        time.Advance(limits.HandshakeTimeout);
        Assert.Equal(0, await SecurityTests.ReceiveOrResetAsync(silent, new byte[16]));
        await logs.WaitForAsync("did not finish within", Timeout);
        await using var client = await SecurityTests.ConnectAsync(server.Addresses[0], pki.ClientTls());
        Assert.Equal(5, await client.GetService<IScenarioService>().AddAsync(2, 3).AsTask().WaitAsync(Timeout));
    }

    // A raw socket to a tls:// (from 127.0.0.2, so the good clients' 127.0.0.1 keeps its quota) or tls+unix: server.
    // A connection the server closes as soon as it accepts it: over TCP loopback its reset can
    // overtake the connect's own completion here, and then the connect fails with the reset.
    private static async Task AssertClosedAtOnceAsync(string address)
    {
        Socket extra;
        try
        {
            extra = await ConnectRawAsync(address);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return;
        }

        using (extra)
        {
            Assert.Equal(0, await SecurityTests.ReceiveOrResetAsync(extra, new byte[16]));
        }
    }

    private static async Task<Socket> ConnectRawAsync(string address)
    {
        if (address.StartsWith("tls+unix:", StringComparison.Ordinal))
        {
            var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await unix.ConnectAsync(new UnixDomainSocketEndPoint(address["tls+unix:".Length..])).WaitAsync(Timeout);
            return unix;
        }

        var parsed = RpcAddress.Parse(address);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        await socket.ConnectAsync(IPAddress.Parse(parsed.Host), parsed.Port).WaitAsync(Timeout);
        return socket;
    }
}
