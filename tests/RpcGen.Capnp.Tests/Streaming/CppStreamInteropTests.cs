using System.Security.Cryptography;
using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Capnp.Tests.Streaming;

/// <summary>
/// Streams between RpcGen and the C++ reference implementation, both ways, over TCP and Unix sockets:
/// a C++ peer built from the schema the generator emits for <see cref="IStreams"/> writes with
/// <c>StreamingRequest</c> (C++ flow control) into sinks RpcGen serves, and serves sinks RpcGen writes to.
/// </summary>
public sealed class CppStreamInteropTests
{
    private const long Stored = (3L << 20) + 7;
    private const long Downloaded = (5L << 20) + 123;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private static readonly Lazy<Task<string>> s_peer = new(BuildAsync);

    public static TheoryData<string> Transports => StreamPair.Transports;

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_cpp_client_streams_to_and_from_our_server(string transport)
    {
        var peer = await s_peer.Value;
        var socket = Path.Combine(Path.GetTempPath(), $"rpcgen-streams-{Guid.NewGuid():N}.sock");
        try
        {
            await using var server = CapnpServer.Listen<IStreams>(transport == "unix" ? "unix:" + socket : "tcp://127.0.0.1:0", new StreamsService());
            var address = transport == "unix" ? "unix:" + socket : server.Address["tcp://".Length..];
            await using var client = PeerProcess.Start(peer, "client", address);
            var exit = await client.WaitForExitAsync(Timeout);

            Assert.True(exit == 0, string.Join('\n', client.Output) + "\n" + await client.StderrSoFarAsync());
            Assert.Equal(
                [
                    "upload cpp 500 124750",
                    $"store blob:{Stored}:{Convert.ToHexString(SHA256.HashData(Pattern(Stored)))}",
                    "readings 300 22425 ended",
                    $"download {Downloaded} 0 ended",
                ],
                client.Output);
        }
        finally
        {
            File.Delete(socket);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Our_client_streams_to_and_from_a_cpp_server(string transport)
    {
        var peer = await s_peer.Value;
        var socket = Path.Combine(Path.GetTempPath(), $"rpcgen-streams-{Guid.NewGuid():N}.sock");
        try
        {
            await using var process = PeerProcess.Start(peer, "server", transport == "unix" ? "unix:" + socket : "127.0.0.1:0");
            var listening = await process.WaitForLineAsync("LISTENING", Timeout);
            var address = transport == "unix" ? "unix:" + socket : "tcp://127.0.0.1:" + listening["LISTENING ".Length..];
            await using var connection = await CapnpConnection.ConnectAsync(address).WaitAsync(Timeout);
            using var proxy = (IDisposable)connection.Bootstrap<IStreams>();
            var streams = (IStreams)proxy;

            // Our writes into sinks the C++ server serves.
            var readings = Enumerable.Range(0, 1000).Select(i => new Reading(i, i, "cs")).ToAsyncEnumerable();
            Assert.Equal(new Summary("cs", 1000, 499500), await streams.UploadAsync("cs", readings).WaitAsync(Timeout));
            var stored = await streams.StoreAsync("blob", new MemoryStream(Pattern(Stored))).WaitAsync(Timeout);
            Assert.Equal($"blob:{Stored}:{Fnv1a(Pattern(Stored)):x}", stored);

            // The C++ server's StreamingRequest writes into sinks we serve.
            var received = await streams.ReadingsAsync(300).ToListAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal(Enumerable.Range(0, 300).Select(i => new Reading(i, i * 0.5, "sensor-" + i)), received);
            await using var download = await streams.DownloadAsync(Downloaded).WaitAsync(Timeout);
            var copy = new MemoryStream();
            await download.CopyToAsync(copy).WaitAsync(Timeout);
            Assert.Equal(Pattern(Downloaded), copy.ToArray());
            Assert.Equal(0, connection.StreamBytesInFlight);
        }
        finally
        {
            File.Delete(socket);
        }
    }

    private static byte[] Pattern(long length)
    {
        var bytes = new byte[length];
        for (var i = 0L; i < length; i++)
        {
            bytes[i] = StreamsService.Pattern(i);
        }

        return bytes;
    }

    private static ulong Fnv1a(byte[] bytes)
    {
        var value = 14695981039346656037ul;
        foreach (var b in bytes)
        {
            value = (value ^ b) * 1099511628211ul;
        }

        return value;
    }

    // The peer is built from the schema the generator emitted for IStreams, as any C++ user of it would.
    private static async Task<string> BuildAsync()
    {
        var directory = Directory.CreateTempSubdirectory("rpcgen-streams-").FullName;
        try
        {
            var schema = Path.Combine(directory, "streams.capnp");
            await File.WriteAllTextAsync(schema, CapnpServiceRegistry.Schema<IStreams>());
            var peers = await CppPeers.BuildAsync("streams", schema, [("streams-peer", Path.Combine(CapnpTool.InteropDirectory, "peers", "streams-peer.c++"))]);
            return Path.Combine(peers, "streams-peer");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
