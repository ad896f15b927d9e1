using System.Net;
using System.Net.Sockets;
using global::Grpc.Core;
using global::Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using RpcGen.Benchmarks.Peers.RpcGen;
using RpcGen.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;
using RpcGen.Benchmarks.Peers.Grpc.Proto;

namespace RpcGen.Benchmarks.Peers.Grpc;

/// <summary>
/// grpc-dotnet as a <see cref="PeerSession"/>: Grpc.AspNetCore on Kestrel speaking cleartext HTTP/2,
/// bound to 127.0.0.1 (or a Unix socket), and one Grpc.Net.Client channel with a single HTTP/2
/// connection, so concurrent callers share one connection as with every other peer.
/// </summary>
public sealed class GrpcSession : PeerSession
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;
    private readonly BenchGrpc.BenchGrpcClient _client;
    private readonly string? _socketPath;
    private readonly SmallMessage _smallDto = BenchData.CreateSmall();
    private readonly BenchmarkMessage _messageDto = BenchData.CreateBenchmarkMessage();
    private readonly byte[] _bytes = BenchData.CreateLargePayload();
    private readonly EmptyMsg _empty = new();
    private readonly SmallMsg _small;
    private readonly BenchmarkMsg _message;
    private readonly BytesMsg _payload;

    private GrpcSession(LinkKind link, WebApplication app, GrpcChannel channel, string? socketPath, bool tls)
    {
        Link = link;
        _tls = tls;
        _app = app;
        _channel = channel;
        _socketPath = socketPath;
        _client = new BenchGrpc.BenchGrpcClient(channel);
        _small = GrpcMessages.ToProto(_smallDto);
        _message = GrpcMessages.ToProto(_messageDto);
        _payload = GrpcMessages.ToProto(_bytes);
    }

    private readonly bool _tls;

    public override PeerKind Peer => _tls ? PeerKind.GrpcTls : PeerKind.Grpc;

    public override LinkKind Link { get; }

    public override string ConfigurationNote =>
        (_tls ? "Kestrel HTTPS (TLS 1.3, client certificate required and checked against the benchmark CA), " : "Kestrel h2c, ") + "logging off, protobuf messages from Grpc.Tools codegen; client: one SocketsHttpHandler connection " +
        "(EnableMultipleHttp2Connections=false); server stream written with WriteFlags.BufferHint; upload as a client stream of chunks";

    public static async Task<GrpcSession> StartAsync(LinkKind link, bool tls = false)
    {
        var socketPath = link == LinkKind.Uds ? Loopback.NewUnixSocketPath("grpc") : null;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AddServerHeader = false;
            if (socketPath is not null)
            {
                kestrel.ListenUnixSocket(socketPath, listen => ConfigureListener(listen, tls));
            }
            else
            {
                kestrel.Listen(IPAddress.Loopback, 0, listen => ConfigureListener(listen, tls));
            }
        });
        builder.Services.AddGrpc(options =>
        {
            options.MaxReceiveMessageSize = 16 * 1024 * 1024;
            options.EnableDetailedErrors = true;
        });
        var app = builder.Build();
        app.MapGrpcService<GrpcBenchService>();
        await app.StartAsync().ConfigureAwait(false);

        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        if (tls)
        {
            // The same posture as RpcGen's TLS peer: TLS 1.3, a client certificate, both sides
            // checked against the benchmark CA only (certificates are issued to a fixed name).
            var client = BenchTls.Client(psk: false);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls13,
                ClientCertificates = [client.Certificate!],
                TargetHost = RpcCertificates.DefaultServerName,
                RemoteCertificateValidationCallback = (_, certificate, _, _) => IsFromBenchmarkCa(certificate),
            };
        }
        string address;
        if (socketPath is not null)
        {
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            address = tls ? "https://localhost" : "http://localhost";
        }
        else
        {
            var server = app.Services.GetRequiredService<IServer>();
            address = server.Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        }

        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
            MaxSendMessageSize = 16 * 1024 * 1024,
        });
        // No channel.ConnectAsync(): grpc-dotnet refuses it with a ConnectCallback (the Unix socket
        // case); the first call connects, and VerifyAsync makes that call before anything is measured.
        return new GrpcSession(link, app, channel, socketPath, tls);
    }

    private static void ConfigureListener(ListenOptions listen, bool tls)
    {
        listen.Protocols = HttpProtocols.Http2;
        if (tls)
        {
            listen.UseHttps(https =>
            {
                https.ServerCertificate = BenchTls.Server(psk: false).Certificate;
                https.SslProtocols = SslProtocols.Tls13;
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (certificate, _, _) => IsFromBenchmarkCa(certificate);
            });
        }
    }

    private static bool IsFromBenchmarkCa(X509Certificate? certificate) =>
        certificate is not null
        && RpcCertificates.VerifyChain(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), BenchTls.Client(psk: false).CertificateAuthorities, out var error) is not null
        && error is null;

    public override CallerDriver? CreateUnaryDriver(Workload workload, out string? unavailableReason)
    {
        unavailableReason = null;
        var client = _client;
        return workload switch
        {
            Workload.Empty => recorder => CallLoop.RunAsync(() => new ValueTask<EmptyMsg>(client.PingAsync(_empty).ResponseAsync), recorder),
            Workload.Small => recorder => CallLoop.RunAsync(() => new ValueTask<SmallMsg>(client.EchoSmallAsync(_small).ResponseAsync), recorder),
            Workload.Message => recorder => CallLoop.RunAsync(() => new ValueTask<BenchmarkMsg>(client.EchoMessageAsync(_message).ResponseAsync), recorder),
            Workload.Bytes64K => recorder => CallLoop.RunAsync(() => new ValueTask<BytesMsg>(client.EchoBytesAsync(_payload).ResponseAsync), recorder),
            _ => throw new ArgumentOutOfRangeException(nameof(workload)),
        };
    }

    public override Func<Task<long>>? CreateServerStream(int count, out string? unavailableReason)
    {
        unavailableReason = null;
        return async () =>
        {
            using var call = _client.StreamItems(new StreamRequest { Count = count });
            long received = 0;
            while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                _ = call.ResponseStream.Current;
                received++;
            }

            return received;
        };
    }

    public override Func<Task<long>>? CreateUpload(long totalBytes, int chunkBytes, out string? unavailableReason)
    {
        unavailableReason = null;
        var chunk = BenchData.CreateChunk(chunkBytes);
        return async () =>
        {
            using var call = _client.Upload();
            var full = new ChunkMsg { Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(chunk) };
            for (var remaining = totalBytes; remaining > 0;)
            {
                var size = (int)Math.Min(chunkBytes, remaining);
                var message = size == chunkBytes ? full : new ChunkMsg { Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(chunk.AsMemory(0, size)) };
                await call.RequestStream.WriteAsync(message).ConfigureAwait(false);
                remaining -= size;
            }

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            var result = await call.ResponseAsync.ConfigureAwait(false);
            return result.Bytes;
        };
    }

    public override async Task VerifyAsync()
    {
        const string name = "grpc-dotnet";
        await _client.PingAsync(_empty).ResponseAsync.ConfigureAwait(false);
        EchoCheck.Small(_smallDto, GrpcMessages.FromProto(await _client.EchoSmallAsync(_small).ResponseAsync.ConfigureAwait(false)), name);
        EchoCheck.Message(_messageDto, GrpcMessages.FromProto(await _client.EchoMessageAsync(_message).ResponseAsync.ConfigureAwait(false)), name);
        var echoed = await _client.EchoBytesAsync(_payload).ResponseAsync.ConfigureAwait(false);
        EchoCheck.Bytes(_bytes, echoed.Data.Span, name);
        EchoCheck.Count(10, await CreateServerStream(10, out _)!().ConfigureAwait(false), name, "stream items");
        EchoCheck.Count(100_000, await CreateUpload(100_000, 4096, out _)!().ConfigureAwait(false), name, "uploaded bytes");
    }

    public override async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_socketPath is not null && File.Exists(_socketPath))
        {
            File.Delete(_socketPath);
        }
    }
}
