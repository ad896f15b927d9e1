using System.Net.Sockets;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// A server starting on a Unix socket path never takes it from a live server and never deletes a
/// file that is not a socket; it only removes a stale socket file (one nobody listens on).
/// </summary>
public class UnixSocketPathTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Fact]
    public async Task A_second_server_on_the_path_of_a_live_one_is_refused_and_the_first_keeps_serving()
    {
        var path = NewPath();
        await using var fixture = await StartAsync(path);
        await using var second = new RpcServer();
        second.AddService<IScenarioService>(new ScenarioService());

        var error = await Assert.ThrowsAsync<IOException>(() => second.StartAsync("unix:" + path));

        Assert.Contains("address in use", error.Message);
        Assert.Contains(path, error.Message);
        await using var client = await RpcClient.ConnectAsync("unix:" + path).WaitAsync(Timeout);
        Assert.Equal(3, await client.GetService<IScenarioService>().AddAsync(1, 2).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_stale_socket_file_is_removed_and_the_server_starts()
    {
        var path = NewPath();
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            // A socket file nobody listens on, as a process that died leaves it. (Disposing a socket
            // deletes the file it bound, so it is bound elsewhere and moved into place.)
            var bound = path + ".bound";
            dead.Bind(new UnixDomainSocketEndPoint(bound));
            File.Move(bound, path);
        }

        Assert.True(File.Exists(path));

        await using var server = await StartAsync(path);
        await using var client = await RpcClient.ConnectAsync("unix:" + path).WaitAsync(Timeout);
        Assert.Equal(3, await client.GetService<IScenarioService>().AddAsync(1, 2).AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [InlineData("somebody's data")]
    [InlineData("")]
    public async Task A_regular_file_at_the_path_is_never_deleted_and_the_error_names_it(string content)
    {
        var path = NewPath();
        await File.WriteAllTextAsync(path, content);
        try
        {
            await using var server = new RpcServer();
            server.AddService<IScenarioService>(new ScenarioService());

            var error = await Assert.ThrowsAsync<IOException>(() => server.StartAsync("unix:" + path));

            Assert.Contains(path, error.Message);
            Assert.Contains("not a socket", error.Message);
            Assert.Equal(content, await File.ReadAllTextAsync(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_directory_at_the_path_is_left_alone_and_the_error_names_it()
    {
        var path = NewPath();
        Directory.CreateDirectory(path);
        try
        {
            await using var server = new RpcServer();
            var error = await Assert.ThrowsAsync<IOException>(() => server.StartAsync("unix:" + path));

            Assert.Contains(path, error.Message);
            Assert.True(Directory.Exists(path));
        }
        finally
        {
            Directory.Delete(path);
        }
    }

    private static string NewPath() => Path.Combine(Path.GetTempPath(), $"rpcgen-{Guid.NewGuid():N}.sock");

    private static async Task<RpcServer> StartAsync(string path)
    {
        var server = new RpcServer();
        server.AddService<IScenarioService>(new ScenarioService());
        await server.StartAsync("unix:" + path);
        return server;
    }
}
