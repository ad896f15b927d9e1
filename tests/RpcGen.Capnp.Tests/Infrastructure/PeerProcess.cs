using System.Diagnostics;
using System.Threading.Channels;

namespace RpcGen.Capnp.Tests.Infrastructure;

/// <summary>
/// A C++ peer running as a child process with a bounded lifetime: its stdout lines are collected,
/// its stdin is held open (closing it tells the peer to exit), and disposing it waits briefly for
/// the exit before killing the process tree.
/// </summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _all = [];
    private readonly Task _pump;
    private readonly Task<string> _stderr;

    private readonly bool _exitsWhenStdinCloses;

    private PeerProcess(Process process, bool exitsWhenStdinCloses)
    {
        _process = process;
        _exitsWhenStdinCloses = exitsWhenStdinCloses;
        _pump = PumpAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public static PeerProcess Start(string executable, params string[] arguments) => Start(executable, exitsWhenStdinCloses: true, arguments);

    /// <summary>Starts a peer; one that does not exit when its stdin closes is killed on dispose.</summary>
    public static PeerProcess Start(string executable, bool exitsWhenStdinCloses, params string[] arguments)
    {
        var info = new ProcessStartInfo(executable);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Start(info, exitsWhenStdinCloses);
    }

    /// <summary>Starts a process described by <paramref name="info"/> (its standard streams are redirected here).</summary>
    public static PeerProcess Start(ProcessStartInfo info, bool exitsWhenStdinCloses)
    {
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        return new PeerProcess(Process.Start(info) ?? throw new InvalidOperationException($"Could not start {info.FileName}."), exitsWhenStdinCloses);
    }

    /// <summary>Every line printed so far.</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    /// <summary>Waits for the next line that starts with <paramref name="prefix"/>.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(cts.Token);
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
            }
        }
        catch (Exception error) when (error is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"The peer did not print '{prefix}…'. Output so far:\n{string.Join('\n', Output)}\n{await StderrSoFarAsync()}");
        }
    }

    /// <summary>Waits for the process to exit; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        await _pump;
        return _process.ExitCode;
    }

    public async Task<string> StderrSoFarAsync() => _process.HasExited ? await _stderr : string.Empty;

    /// <summary>Kills the process at once (to cut its connections).</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_exitsWhenStdinCloses && !_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (Exception)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    private async Task PumpAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            lock (_all)
            {
                _all.Add(line);
            }

            await _lines.Writer.WriteAsync(line);
        }

        _lines.Writer.TryComplete();
    }
}
