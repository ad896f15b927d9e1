using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using RpcGen.Security;

namespace RpcGen.Transport.Message.Tests;

/// <summary>The pre-shared-key inner layer: inside TLS through RpcServer/RpcClient, and over a tampering relay.</summary>
public class PskLayerTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    internal static RpcTlsOptions WithPsk(RpcTlsOptions tls, byte[] psk) => new()
    {
        Certificate = tls.Certificate,
        CertificateAuthorities = tls.CertificateAuthorities,
        InnerLayer = new RpcPskLayer(psk),
    };

    private static async Task<(RpcServer Server, ScenarioService Service, CapturingLoggerProvider Logs)> StartAsync(RpcTlsOptions tls)
    {
        var logs = new CapturingLoggerProvider();
        var server = new RpcServer(new RpcServerOptions
        {
            Tls = tls,
            LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs)),
        });
        var service = new ScenarioService();
        server.AddService<IScenarioService>(service);
        await server.StartAsync("tls://127.0.0.1:0");
        return (server, service, logs);
    }

    [Fact]
    public async Task The_same_psk_on_both_sides_carries_calls()
    {
        var pki = TestPki.Shared;
        var psk = RandomNumberGenerator.GetBytes(32);
        var (server, _, _) = await StartAsync(WithPsk(pki.ServerTls(), psk));
        await using var _server = server;
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0], new RpcClientOptions { Tls = WithPsk(pki.ClientTls(), psk) }).WaitAsync(Timeout);
        var service = client.GetService<IScenarioService>();

        Assert.Equal(5, await service.AddAsync(2, 3).AsTask().WaitAsync(Timeout));
        var blob = await service.BlobAsync(1024 * 1024 + 17).WaitAsync(Timeout);
        Assert.Equal(1024 * 1024 + 17, blob.Length);
        var calls = Enumerable.Range(0, 40).Select(i => service.AddAsync(i, i).AsTask()).ToArray();
        Assert.Equal(Enumerable.Range(0, 40).Select(i => 2 * i), await Task.WhenAll(calls).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_wrong_psk_is_refused_before_any_call_is_read()
    {
        var pki = TestPki.Shared;
        var (server, _, logs) = await StartAsync(WithPsk(pki.ServerTls(), RandomNumberGenerator.GetBytes(32)));
        await using var _server = server;

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            RpcClient.ConnectAsync(server.Addresses[0], new RpcClientOptions { Tls = WithPsk(pki.ClientTls(), RandomNumberGenerator.GetBytes(32)) }).WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("pre-shared key", error.Message);
        await logs.WaitForAsync("pre-shared key", Timeout);
        Assert.Equal(0, server.ConnectionCount);
    }

    [Fact]
    public async Task A_tampered_record_aborts_the_link()
    {
        var psk = RandomNumberGenerator.GetBytes(32);
        var (client, relayClientSide) = RpcLinks.CreateMemoryPair("psk-client");
        var (relayServerSide, server) = RpcLinks.CreateMemoryPair("psk-server");
        var tamper = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var relaying = Task.WhenAll(
            RelayAsync(relayClientSide, relayServerSide, tamper.Task),
            RelayAsync(relayServerSide, relayClientSide, new TaskCompletionSource().Task)); // the answers are never tampered with

        var layer = new RpcPskLayer(psk);
        var wrappedServer = layer.WrapAsync(server, server: true, CancellationToken.None).AsTask();
        var wrappedClient = await layer.WrapAsync(client, server: false, CancellationToken.None).AsTask().WaitAsync(Timeout);
        var innerServer = await wrappedServer.WaitAsync(Timeout);

        // One record goes through intact, then the relay flips a bit of the next.
        await wrappedClient.Output.WriteAsync("hello"u8.ToArray());
        var first = await innerServer.Input.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("hello"u8.ToArray(), first.Buffer.ToArray());
        innerServer.Input.AdvanceTo(first.Buffer.End);
        tamper.SetResult();
        await wrappedClient.Output.WriteAsync("secret"u8.ToArray());

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (true)
            {
                var read = await innerServer.Input.ReadAsync().AsTask().WaitAsync(Timeout);
                Assert.True(read.Buffer.IsEmpty, "A tampered record reached the protocol.");
                innerServer.Input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    return;
                }
            }
        });
        Assert.Equal(RpcStatusCode.ProtocolError, error.StatusCode);
        Assert.Contains("did not authenticate", error.Message);
        wrappedClient.Abort();
        innerServer.Abort();
        relayClientSide.Abort();
        relayServerSide.Abort();
        await relaying.WaitAsync(Timeout);
    }

    private static async Task RelayAsync(RpcLink from, RpcLink to, Task tamper)
    {
        try
        {
            while (true)
            {
                var read = await from.Input.ReadAsync();
                var bytes = read.Buffer.ToArray();
                from.Input.AdvanceTo(read.Buffer.End);
                if (bytes.Length > 0)
                {
                    if (tamper.IsCompleted)
                    {
                        bytes[^1] ^= 0x01;
                    }

                    await to.Output.WriteAsync(bytes);
                }

                if (read.IsCompleted || read.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception)
        {
            // The test aborts the links when it is done.
        }
    }
}
