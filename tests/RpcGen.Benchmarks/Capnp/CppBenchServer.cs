using System.Diagnostics;
using System.Globalization;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>
/// The C++ <c>bench-server</c> as a child process. It lives until its stdin is closed (on dispose,
/// or when this process dies) or ten minutes pass; a server that does not exit promptly is killed.
/// </summary>
public sealed class CppBenchServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;
    private readonly string? _socketPath;

    private CppBenchServer(Process process, string? socketPath, string csharpAddress, string cppAddress)
    {
        _process = process;
        _socketPath = socketPath;
        _stderr = process.StandardError.ReadToEndAsync();
        CSharpAddress = csharpAddress;
        CppAddress = cppAddress;
    }

    /// <summary>The address in <see cref="RpcGen.Capnp.CapnpConnection.ConnectAsync"/>'s form (<c>tcp://127.0.0.1:PORT</c> or <c>unix:PATH</c>).</summary>
    public string CSharpAddress { get; }

    /// <summary>The address in <c>EzRpcClient</c>'s form (<c>127.0.0.1:PORT</c> or <c>unix:PATH</c>).</summary>
    public string CppAddress { get; }

    /// <summary>Starts the server on <paramref name="link"/> and waits, at most <paramref name="timeout"/>, until it listens.</summary>
    public static async Task<CppBenchServer> StartAsync(string executable, LinkKind link, TimeSpan timeout)
    {
        var socketPath = link == LinkKind.Uds ? Loopback.NewUnixSocketPath("capnp-cpp") : null;
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(socketPath is null ? "127.0.0.1:0" : "unix:" + socketPath);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {executable}.");
        string? line;
        using (var cts = new CancellationTokenSource(timeout))
        {
            try
            {
                line = await process.StandardOutput.ReadLineAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                line = null;
            }
        }

        if (line is null || !line.StartsWith("LISTENING ", StringComparison.Ordinal))
        {
            process.Kill(entireProcessTree: true);
            var stderr = await process.StandardError.ReadToEndAsync().WaitAsync(timeout).ConfigureAwait(false);
            process.Dispose();
            throw new InvalidOperationException($"bench-server did not start listening: {(line ?? "no output")} {stderr.Trim()}");
        }

        if (socketPath is not null)
        {
            return new CppBenchServer(process, socketPath, "unix:" + socketPath, "unix:" + socketPath);
        }

        var port = int.Parse(line.AsSpan("LISTENING ".Length), CultureInfo.InvariantCulture);
        return new CppBenchServer(process, null, $"tcp://127.0.0.1:{port}", $"127.0.0.1:{port}");
    }

    /// <summary>Closes the server's stdin, waits up to five seconds for it to exit, then kills it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            await _stderr.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
        finally
        {
            _process.Dispose();
            if (_socketPath is not null && File.Exists(_socketPath))
            {
                File.Delete(_socketPath);
            }
        }
    }
}
