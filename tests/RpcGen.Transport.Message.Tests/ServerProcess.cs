using System.Diagnostics;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// The test server (<c>tests/RpcGen.Transport.Message.TestServer</c>) as a separate process, which a
/// test can kill -9 (<see cref="Process.Kill()"/> sends SIGKILL on Linux) and start again on the
/// same address. Its standard output lines are the signals a test waits for.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>Bounds process start-up, which on a busy machine takes seconds.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private ServerProcess(Process process, string address)
    {
        _process = process;
        Address = address;
    }

    /// <summary>The address the server listens on (a <c>tcp://…:0</c> request resolved to its port).</summary>
    public string Address { get; private set; }

    public int Id => _process.Id;

    /// <summary>Starts the server on <paramref name="address"/> and waits until it listens; with <paramref name="hang"/> its Submit and Read calls never answer.</summary>
    public static async Task<ServerProcess> StartAsync(string address, bool hang = false)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ExecutablePath);
        info.ArgumentList.Add(address);
        if (hang)
        {
            info.ArgumentList.Add("--hang");
        }

        var process = Process.Start(info)!;
        var server = new ServerProcess(process, address);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                server._lines.Writer.TryComplete();
            }
            else
            {
                server._lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                server._lines.Writer.TryWrite("stderr: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var listening = await server.WaitForLineAsync("listening ", StartTimeout);
        server.Address = listening["listening ".Length..];
        return server;
    }

    /// <summary>Waits for an output line starting with <paramref name="prefix"/>; fails with what the process said otherwise.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var seen = new List<string>();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(cts.Token))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }

                seen.Add(line);
            }
        }
        catch (OperationCanceledException)
        {
        }

        throw new TimeoutException($"The test server did not print '{prefix}…' within {timeout}; it printed:\n{string.Join('\n', seen)}");
    }

    /// <summary>Kills the process at once (SIGKILL): no shutdown, no goodbye frames, sockets left to the kernel.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(StartTimeout);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().WaitAsync(StartTimeout);
        }

        _process.Dispose();
    }

    private static string ExecutablePath
    {
        get
        {
            // The tests run from tests/<this project>/bin/<configuration>/<framework>/; the server is
            // built beside it (a build-only project reference) with the same configuration.
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = framework.Parent!;
            var testsRoot = configuration.Parent!.Parent!.Parent!;
            const string Name = "RpcGen.Transport.Message.TestServer";
            var path = Path.Combine(testsRoot.FullName, Name, "bin", configuration.Name, framework.Name, Name + ".dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The test server is not built at {path}.", path);
        }
    }
}
