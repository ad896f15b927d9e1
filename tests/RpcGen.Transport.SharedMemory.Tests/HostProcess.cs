using System.Diagnostics;
using System.Threading.Channels;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// The test host (<c>tests/RpcGen.Transport.SharedMemory.TestHost</c>) as a real second process,
/// which a test can kill -9. Its standard output lines are the signals a test waits for.
/// </summary>
internal sealed class HostProcess : IAsyncDisposable
{
    /// <summary>Bounds process start-up, which on a busy machine takes seconds.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private HostProcess(Process process, string address)
    {
        _process = process;
        Address = address;
    }

    public string Address { get; }

    /// <summary>A fresh shared-memory address under the temporary directory.</summary>
    public static string NewAddress(string scheme = "shm") => $"{scheme}:{Path.Combine(Path.GetTempPath(), $"rpcgen-shm-{Guid.NewGuid():N}.sock")}";

    /// <summary>Starts the host on <paramref name="address"/> and waits until it listens.</summary>
    public static async Task<HostProcess> StartAsync(string? address = null)
    {
        address ??= NewAddress();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add(ExecutablePath);
        info.ArgumentList.Add(address);
        var process = Process.Start(info)!;
        var host = new HostProcess(process, address);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                host._lines.Writer.TryComplete();
            }
            else
            {
                host._lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                host._lines.Writer.TryWrite("stderr: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await host.WaitForLineAsync("listening ", StartTimeout);
        return host;
    }

    /// <summary>Waits for an output line starting with <paramref name="prefix"/>; fails with what the process printed otherwise.</summary>
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

        throw new TimeoutException($"The test host did not print '{prefix}…' within {timeout}; it printed:\n{string.Join('\n', seen)}");
    }

    /// <summary>Kills the process at once (SIGKILL): no goodbye, sockets and mappings left to the kernel.</summary>
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
            // The tests run from tests/<this project>/bin/<configuration>/<framework>/; the host is
            // built beside it (a build-only project reference) with the same configuration.
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = framework.Parent!;
            var testsRoot = configuration.Parent!.Parent!.Parent!;
            const string Name = "RpcGen.Transport.SharedMemory.TestHost";
            var path = Path.Combine(testsRoot.FullName, Name, "bin", configuration.Name, framework.Name, Name + ".dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The test host is not built at {path}.", path);
        }
    }
}
