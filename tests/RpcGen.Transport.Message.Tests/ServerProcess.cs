using RpcGen.Testing;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// The test server (<c>tests/RpcGen.Transport.Message.TestServer</c>) as a separate process, which a
/// test can kill -9 and start again on the same address.
/// </summary>
internal static class ServerProcess
{
    /// <summary>Bounds process start-up, which on a busy machine takes seconds.</summary>
    public static TimeSpan StartTimeout => ChildServerProcess.StartTimeout;

    /// <summary>Starts the server on <paramref name="address"/> and waits until it listens; with <paramref name="hang"/> its Submit and Read calls never answer.</summary>
    public static Task<ChildServerProcess> StartAsync(string address, bool hang = false) =>
        ChildServerProcess.StartAsync("RpcGen.Transport.Message.TestServer", hang ? new[] { address, "--hang" } : new[] { address });
}
