using RpcGen.Capnp.Tests.Infrastructure;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using RpcGen.Security;

namespace RpcGen.Transport.Message.Tests;

/// <summary>TLS links, known keys, peer identity and authorization, through RpcServer and RpcClient over real sockets.</summary>
public class SecurityTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    public static TheoryData<string> TlsTransports => new() { "tls", "tls+unix" };

    internal static string NewAddress(string transport) => transport switch
    {
        "tls" => "tls://127.0.0.1:0",
        "tls+unix" => $"tls+unix:{Path.Combine(Path.GetTempPath(), $"rpcgen-{Guid.NewGuid():N}.sock")}",
        _ => TransportFixture.NewAddress(transport),
    };

    private static readonly IReadOnlyDictionary<string, IRpcAuthorizer> s_allowAll = new Dictionary<string, IRpcAuthorizer>
    {
        ["known"] = RpcAuthorizer.From(_ => true),
        ["admins"] = RpcAuthorizer.From(c => c.PeerIdentity?.Name == "admin", "Only admin may do this."),
    };

    internal static async Task<(RpcServer Server, SecureService Service, CapturingLoggerProvider Logs)> StartAsync(
        string address, RpcTlsOptions? tls, IRpcAuthorizer? authorizer = null, RpcLimits? limits = null, TimeProvider? time = null)
    {
        var logs = new CapturingLoggerProvider();
        var server = new RpcServer(new RpcServerOptions
        {
            Tls = tls,
            LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs)),
            AuthorizationPolicies = s_allowAll,
            Authorizer = authorizer,
            Limits = limits ?? RpcLimits.Default,
            TimeProvider = time ?? TimeProvider.System,
        });
        var service = new SecureService();
        server.AddService<ISecureService>(service);
        server.AddService<IScenarioService>(new ScenarioService());
        await server.StartAsync(address);
        return (server, service, logs);
    }

    internal static Task<RpcClient> ConnectAsync(string address, RpcTlsOptions? tls) =>
        RpcClient.ConnectAsync(address, new RpcClientOptions { Tls = tls }).WaitAsync(Timeout);

    [Theory]
    [MemberData(nameof(TlsTransports))]
    public async Task Mutual_tls_authenticates_both_sides_and_the_handler_sees_the_client(string transport)
    {
        var pki = TestPki.Shared;
        var (server, _, _) = await StartAsync(NewAddress(transport), pki.ServerTls());
        await using var _server = server;
        Assert.StartsWith(transport + ":", server.Addresses[0]);
        await using var client = await ConnectAsync(server.Addresses[0], pki.ClientTls());

        var me = await client.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout);

        Assert.NotNull(me);
        Assert.Equal(RpcCertificates.Fingerprint(pki.Client), me.Fingerprint);
        Assert.Equal("alice", me.Name);
        Assert.Equal("alice@example.test", me.Email);
        Assert.Equal(pki.Authority.Subject, me.Authority);
        if (transport == "tls+unix" && OperatingSystem.IsLinux())
        {
            Assert.Equal(Environment.ProcessId, me.ProcessId);
        }
    }

    [Fact]
    public async Task Plain_unix_socket_handlers_see_the_peer_credentials()
    {
        if (!OperatingSystem.IsLinux())
        {
            ExternalTool.Missing("SO_PEERCRED is Linux only", "run on Linux");
        }

        var (server, _, _) = await StartAsync(NewAddress("unix"), tls: null);
        await using var _server = server;
        await using var client = await ConnectAsync(server.Addresses[0], tls: null);

        var me = await client.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout);

        Assert.NotNull(me);
        Assert.Equal(Environment.ProcessId, me.ProcessId);
        Assert.NotNull(me.UserId);
        Assert.Null(me.Fingerprint);
    }

    [Fact]
    public async Task Message_scenarios_run_over_tls()
    {
        var pki = TestPki.Shared;
        var (server, _, _) = await StartAsync(NewAddress("tls"), pki.ServerTls());
        await using var _server = server;
        await using var client = await ConnectAsync(server.Addresses[0], pki.ClientTls());
        var service = client.GetService<IScenarioService>();

        var shape = new Shape { Name = "triangle", Points = [new(0, 0), new(3, 0), new(0, 4)] };
        Assert.Equal(shape.Points, (await service.EchoAsync(shape).WaitAsync(Timeout)).Points);
        var calls = Enumerable.Range(0, 50).Select(i => service.AddAsync(i, 1).AsTask()).ToArray();
        Assert.Equal(Enumerable.Range(1, 50), await Task.WhenAll(calls).WaitAsync(Timeout));
        var blob = await service.BlobAsync(3 * 1024 * 1024).WaitAsync(Timeout);
        Assert.Equal(3 * 1024 * 1024, blob.Length);
        var failure = await Assert.ThrowsAsync<RpcException>(() => service.FailAsync("boom").WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Failed, failure.StatusCode);
    }

    [Fact]
    public async Task A_client_certificate_from_another_ca_is_refused()
    {
        var pki = TestPki.Shared;
        var other = RpcCertificates.CreateAuthority("Other CA");
        var stranger = RpcCertificates.IssueIdentity(other, "mallory");
        var (server, _, logs) = await StartAsync(NewAddress("tls"), pki.ServerTls());
        await using var _server = server;

        var error = await Assert.ThrowsAsync<RpcException>(() => ConnectAsync(server.Addresses[0], pki.ClientTls(stranger)));

        Assert.True(error.StatusCode == RpcStatusCode.PermissionDenied, error.ToString());
        Assert.Contains("refused this client", error.Message);
        await logs.WaitForAsync(RpcCertificates.Fingerprint(stranger), Timeout);
    }

    [Fact]
    public async Task A_server_certificate_from_another_ca_is_refused_by_the_client()
    {
        var pki = TestPki.Shared;
        var other = RpcCertificates.CreateAuthority("Other CA");
        var (server, _, _) = await StartAsync(NewAddress("tls"), new RpcTlsOptions { Certificate = RpcCertificates.IssueIdentity(other, "fake-server"), CertificateAuthorities = [other] });
        await using var _server = server;

        var error = await Assert.ThrowsAsync<RpcException>(() => ConnectAsync(server.Addresses[0], pki.ClientTls()));

        Assert.Equal(RpcStatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("server's certificate was refused", error.Message);
    }

    [Fact]
    public async Task A_client_without_certificate_is_refused_by_default()
    {
        var pki = TestPki.Shared;
        var (server, _, logs) = await StartAsync(NewAddress("tls"), pki.ServerTls());
        await using var _server = server;

        var error = await Assert.ThrowsAsync<RpcException>(() => ConnectAsync(server.Addresses[0], new RpcTlsOptions { CertificateAuthorities = [pki.Authority] }));

        Assert.Equal(RpcStatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("requires a client certificate", error.Message);
        await logs.WaitForAsync("presented no certificate", Timeout);
    }

    [Fact]
    public async Task Skip_verify_posture_admits_a_client_without_certificate_and_warns()
    {
        var pki = TestPki.Shared;
        var (server, _, logs) = await StartAsync(NewAddress("tls"), pki.ServerTls(posture: RpcTlsPosture.SkipClientVerification));
        await using var _server = server;
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("does not verify clients"));

        await using var client = await ConnectAsync(server.Addresses[0], new RpcTlsOptions { CertificateAuthorities = [pki.Authority] });

        Assert.Null(await client.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_tls_address_without_tls_options_is_refused_and_tcp_stays_plain()
    {
        var pki = TestPki.Shared;
        await using var server = new RpcServer(new RpcServerOptions());
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAsync("tls://127.0.0.1:0"));

        // Plain by explicit choice of address: TLS options do not change what tcp:// means.
        var (plain, _, _) = await StartAsync(NewAddress("tcp"), pki.ServerTls());
        await using var _plain = plain;
        await using var client = await ConnectAsync(plain.Addresses[0], tls: null);
        Assert.Null(await client.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Trust_on_first_use_records_a_client_then_lockdown_admits_only_it()
    {
        using var pki = new TestPki();
        var known = pki.TempPath("known_client_keys");
        var (tofu, _, tofuLogs) = await StartAsync(NewAddress("tls"), pki.ServerTls(known));
        await using (tofu)
        {
            await using var first = await ConnectAsync(tofu.Addresses[0], pki.ClientTls());
            await first.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout);
            await tofuLogs.WaitForAsync("on first use", Timeout);
        }

        var lines = File.ReadAllLines(known);
        var line = Assert.Single(lines);
        Assert.StartsWith(RpcCertificates.Fingerprint(pki.Client) + "\talice\talice@example.test\t", line);

        MakeReadOnly(known);
        var (locked, _, lockedLogs) = await StartAsync(NewAddress("tls"), pki.ServerTls(known));
        await using var _locked = locked;
        var bob = pki.Issue("bob");

        var refused = await Assert.ThrowsAsync<RpcException>(() => ConnectAsync(locked.Addresses[0], pki.ClientTls(bob)));

        Assert.Equal(RpcStatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("not in the server's known keys", refused.Message);
        await lockedLogs.WaitForAsync(RpcCertificates.Fingerprint(bob), Timeout);
        await using var again = await ConnectAsync(locked.Addresses[0], pki.ClientTls());
        Assert.Equal("alice", (await again.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout))!.Name);
        Assert.Single(File.ReadAllLines(known));
    }

    [Fact]
    public async Task A_known_name_with_a_different_key_is_refused_even_in_tofu_mode()
    {
        using var pki = new TestPki();
        var known = pki.TempPath("known_client_keys");
        var (server, _, logs) = await StartAsync(NewAddress("tls"), pki.ServerTls(known));
        await using var _server = server;
        await using (var first = await ConnectAsync(server.Addresses[0], pki.ClientTls()))
        {
            await first.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout);
        }

        var impostor = pki.Issue("alice");
        var refused = await Assert.ThrowsAsync<RpcException>(() => ConnectAsync(server.Addresses[0], pki.ClientTls(impostor)));

        Assert.Equal(RpcStatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("different key", refused.Message);
        await logs.WaitForAsync(RpcCertificates.Fingerprint(impostor), Timeout);
        Assert.Single(File.ReadAllLines(known));
    }

    [Fact]
    public async Task A_read_only_empty_known_keys_file_refuses_to_start()
    {
        using var pki = new TestPki();
        var known = pki.TempPath("known_client_keys");
        await File.WriteAllTextAsync(known, "# nobody yet\n");
        MakeReadOnly(known);
        await using var server = new RpcServer(new RpcServerOptions { Tls = pki.ServerTls(known) });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAsync("tls://127.0.0.1:0"));

        Assert.Contains("lists no key", error.Message);
    }

    [Fact]
    public async Task Parallel_first_contacts_append_one_whole_line_each()
    {
        using var pki = new TestPki();
        var known = pki.TempPath("known_client_keys");
        var identities = Enumerable.Range(0, 12).Select(i => pki.Issue($"client{i}")).ToArray();
        var (server, _, _) = await StartAsync(NewAddress("tls"), pki.ServerTls(known));
        await using var _server = server;

        var clients = await Task.WhenAll(identities.Select(id => ConnectAsync(server.Addresses[0], pki.ClientTls(id))));
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        var lines = File.ReadAllLines(known);
        Assert.Equal(identities.Length, lines.Length);
        Assert.Equal(
            identities.Select(RpcCertificates.Fingerprint).Order(),
            lines.Select(l => l.Split('\t')[0]).Order());
        Assert.All(lines, l => Assert.Equal(4, l.Split('\t').Length));
    }

    [Fact]
    public async Task The_client_refuses_a_server_missing_from_its_locked_known_keys()
    {
        using var pki = new TestPki();
        var knownServers = pki.TempPath("known_server_keys");
        await File.WriteAllTextAsync(knownServers, $"{RpcCertificates.Fingerprint(pki.Issue("someone-else"))}\tsomeone-else\t-\t2026-01-01T00:00:00Z\n");
        MakeReadOnly(knownServers);
        var (server, _, _) = await StartAsync(NewAddress("tls"), pki.ServerTls());
        await using var _server = server;

        var error = await Assert.ThrowsAsync<RpcException>(() => ConnectAsync(server.Addresses[0], pki.ClientTls(knownKeys: knownServers)));

        Assert.Equal(RpcStatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("lockdown", error.Message);
    }

    [Fact]
    public async Task The_client_records_the_server_on_first_use_and_refuses_a_changed_server_key()
    {
        using var pki = new TestPki();
        var knownServers = pki.TempPath("known_server_keys");
        var (server, _, _) = await StartAsync(NewAddress("tls"), pki.ServerTls());
        await using (server)
        {
            await using var client = await ConnectAsync(server.Addresses[0], pki.ClientTls(knownKeys: knownServers));
            await client.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout);
        }

        Assert.StartsWith(RpcCertificates.Fingerprint(pki.Server) + "\tserver\t", Assert.Single(File.ReadAllLines(knownServers)));
        var impostorTls = new RpcTlsOptions { Certificate = pki.Issue("server"), CertificateAuthorities = [pki.Authority] };
        var (impostor, _, _) = await StartAsync(NewAddress("tls"), impostorTls);
        await using var _impostor = impostor;

        var error = await Assert.ThrowsAsync<RpcException>(() => ConnectAsync(impostor.Addresses[0], pki.ClientTls(knownKeys: knownServers)));

        Assert.Equal(RpcStatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("changed key", error.Message);
    }

    [Fact]
    public async Task Chosen_cipher_suites_are_used_and_disjoint_ones_fail_the_handshake()
    {
        if (OperatingSystem.IsWindows())
        {
            ExternalTool.Missing("CipherSuitesPolicy is not supported on Windows", "run on Linux or macOS");
        }

        var pki = TestPki.Shared;
        RpcTlsOptions With(RpcTlsOptions tls, System.Net.Security.TlsCipherSuite suite) => new()
        {
            Certificate = tls.Certificate,
            CertificateAuthorities = tls.CertificateAuthorities,
            CipherSuites = [suite],
        };
        var (server, _, _) = await StartAsync(NewAddress("tls"), With(pki.ServerTls(), System.Net.Security.TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256));
        await using var _server = server;

        await using (var client = await ConnectAsync(server.Addresses[0], With(pki.ClientTls(), System.Net.Security.TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256)))
        {
            Assert.NotNull(await client.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout));
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => ConnectAsync(server.Addresses[0], With(pki.ClientTls(), System.Net.Security.TlsCipherSuite.TLS_AES_256_GCM_SHA384)));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains("TLS handshake", error.Message);
    }

    [Theory]
    [InlineData(false, "TLS_CHACHA20_POLY1305_SHA256")]
    [InlineData(true, "TLS_AES_128_GCM_SHA256")]
    public async Task ChaCha20_is_preferred_by_default_and_AES_GCM_first_on_request(bool aesFirst, string expected)
    {
        if (OperatingSystem.IsWindows())
        {
            ExternalTool.Missing("CipherSuitesPolicy is not supported on Windows", "run on Linux or macOS");
        }

        var pki = TestPki.Shared;
        RpcTlsOptions Ordered(RpcTlsOptions tls) => aesFirst
            ? new() { Certificate = tls.Certificate, CertificateAuthorities = tls.CertificateAuthorities, CipherSuites = RpcTlsCipherSuites.AesGcmFirst }
            : tls;
        var (server, _, logs) = await StartAsync(NewAddress("tls"), Ordered(pki.ServerTls()));
        await using var _server = server;

        await using var client = await ConnectAsync(server.Addresses[0], Ordered(pki.ClientTls()));
        Assert.NotNull(await client.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout));

        var done = Assert.Single(logs.Entries, e => e.EventId == 1208);
        Assert.Contains(expected, done.Message);
        Assert.Contains("Tls13", done.Message);
    }

    [Fact]
    public async Task An_rpc_authorize_policy_denies_before_the_implementation_runs()
    {
        var pki = TestPki.Shared;
        var (server, service, _) = await StartAsync(NewAddress("tls"), pki.ServerTls());
        await using var _server = server;
        await using var alice = await ConnectAsync(server.Addresses[0], pki.ClientTls());
        var secure = alice.GetService<ISecureService>();

        var denied = await Assert.ThrowsAsync<RpcException>(() => secure.AdminOnlyAsync().WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.PermissionDenied, denied.StatusCode);
        Assert.Equal("Only admin may do this.", denied.Message);
        Assert.Equal(0, service.AdminCalls);

        await using var admin = await ConnectAsync(server.Addresses[0], pki.ClientTls(pki.Issue("admin")));
        Assert.Equal("secret", await admin.GetService<ISecureService>().AdminOnlyAsync().WaitAsync(Timeout));
        Assert.Equal(1, service.AdminCalls);
    }

    [Fact]
    public async Task A_server_authorizer_denies_calls_from_unauthenticated_peers()
    {
        var (server, _, logs) = await StartAsync(
            NewAddress("tcp"),
            tls: null,
            authorizer: RpcAuthorizer.From(c => c.PeerIdentity?.IsAuthenticated == true, "Authenticate with a certificate first."));
        await using var _server = server;
        await using var client = await ConnectAsync(server.Addresses[0], tls: null);

        var denied = await Assert.ThrowsAsync<RpcException>(() => client.GetService<IScenarioService>().AddAsync(1, 2).AsTask().WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("Authenticate with a certificate first.", denied.Message);
        await logs.WaitForAsync("denied to", Timeout);
    }

    [Fact]
    public async Task Tls_connections_count_against_the_per_address_limit()
    {
        var pki = TestPki.Shared;
        var (server, _, _) = await StartAsync(NewAddress("tls"), pki.ServerTls(), limits: new RpcLimits { MaxConnectionsPerAddress = 1 });
        await using var _server = server;
        await using var first = await ConnectAsync(server.Addresses[0], pki.ClientTls());

        var error = await Assert.ThrowsAsync<RpcException>(() => ConnectAsync(server.Addresses[0], pki.ClientTls()));

        Assert.Contains("MaxConnectionsPerAddress", error.Message);
    }

    [Fact]
    public async Task Garbage_instead_of_a_client_hello_is_closed_and_the_server_goes_on()
    {
        var pki = TestPki.Shared;
        var (server, _, logs) = await StartAsync(NewAddress("tls"), pki.ServerTls());
        await using var _server = server;
        var address = RpcAddress.Parse(server.Addresses[0]);

        using (var socket = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(address.Host, address.Port);
            await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            var buffer = new byte[256];
            while (await ReceiveOrResetAsync(socket, buffer) > 0)
            {
            }
        }

        await logs.WaitForAsync("handshake with " + "tls://", Timeout);
        await logs.WaitForAsync(" failed: ", Timeout);
        await using var client = await ConnectAsync(server.Addresses[0], pki.ClientTls());
        Assert.NotNull(await client.GetService<ISecureService>().WhoAmIAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_stalled_handshake_is_closed_at_the_handshake_timeout()
    {
        var pki = TestPki.Shared;
        var time = new FakeTimeProvider();
        var limits = new RpcLimits { HandshakeTimeout = TimeSpan.FromSeconds(5) };
        var (server, _, logs) = await StartAsync(NewAddress("tls"), pki.ServerTls(), limits: limits, time: time);
        await using var _server = server;
        var address = RpcAddress.Parse(server.Addresses[0]);

        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(address.Host, address.Port);
        // Half a ClientHello record header: the server is now waiting inside the handshake.
        await socket.SendAsync(new byte[] { 0x16, 0x03 });
        var closed = ReceiveOrResetAsync(socket, new byte[16]);

        // The handshake's timer runs from when the server accepted; once it runs, pass the deadline.
        await logs.WaitForAsync("started; it has", Timeout);
        Assert.False(closed.IsCompleted);
        time.Advance(limits.HandshakeTimeout);

        Assert.Equal(0, await closed.WaitAsync(Timeout));
        await logs.WaitForAsync("did not finish within", Timeout);
    }

    [Fact]
    public async Task A_reconnecting_client_the_restarted_server_refuses_stops_reconnecting_and_its_calls_fail_with_PermissionDenied()
    {
        using var pki = new TestPki();
        var (first, _, _) = await StartAsync(NewAddress("tls+unix"), pki.ServerTls());
        var address = first.Addresses[0];
        var clientLogs = new CapturingLoggerProvider();
        await using var client = await RpcClient.ConnectAsync(address, new RpcClientOptions
        {
            Tls = pki.ClientTls(),
            Reconnect = new RpcReconnectPolicy { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(200) },
            LoggerFactory = LoggerFactory.Create(b => b.AddProvider(clientLogs)),
        }).WaitAsync(Timeout);
        var secure = client.GetService<ISecureService>();
        Assert.Equal("alice", (await secure.WhoAmIAsync().WaitAsync(Timeout))!.Name);
        var states = client.WatchStateAsync().GetAsyncEnumerator();

        // The server comes back locked down to bob alone: alice's next handshake is refused.
        await first.DisposeAsync();
        var known = pki.TempPath("known_client_keys");
        Assert.True(RpcKnownKeys.Trust(known, RpcCertificates.Fingerprint(pki.Issue("bob")), "bob"));
        MakeReadOnly(known);
        var (second, _, serverLogs) = await StartAsync(address, pki.ServerTls(known));
        await using var _second = second;

        while (await states.MoveNextAsync().AsTask().WaitAsync(Timeout) && states.Current != RpcConnectionState.Shutdown)
        {
            Assert.NotEqual(RpcConnectionState.Ready, states.Current);
        }

        Assert.Equal(RpcConnectionState.Shutdown, client.State);
        await clientLogs.WaitForAsync("Stopped reconnecting", Timeout);
        Assert.Single(serverLogs.Entries, e => e.EventId == 1201);
        var error = await Assert.ThrowsAsync<RpcException>(() => secure.WhoAmIAsync().WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("stopped reconnecting", error.Message);
        Assert.Contains("not in the server's known keys", error.Message);
    }

    private static void MakeReadOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            File.SetAttributes(path, FileAttributes.ReadOnly);
        }
        else
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        }
    }

    internal static async Task<int> ReceiveOrResetAsync(Socket socket, byte[] buffer)
    {
        try
        {
            return await socket.ReceiveAsync(buffer).WaitAsync(Timeout);
        }
        catch (SocketException)
        {
            return 0;
        }
    }
}
