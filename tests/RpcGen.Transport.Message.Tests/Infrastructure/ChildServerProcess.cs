using System.Diagnostics;
using System.Threading.Channels;

namespace RpcGen.Testing;

/// <summary>
/// A test server program (a project under <c>tests/</c> built beside the tests) run as a real second
/// process, which a test can kill -9 (<see cref="Process.Kill()"/> sends SIGKILL on Linux). The
/// program prints <c>listening ADDRESS</c> once it accepts connections; its other standard output
/// lines are the signals a test waits for. Shared by the message and shared-memory test projects
/// (linked into both), so both start, watch and kill their servers the same way.
/// </summary>
internal sealed class ChildServerProcess : IAsyncDisposable
{
    /// <summary>Bounds process start-up and exit, which on a busy machine take seconds.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private const string ListeningPrefix = "listening ";

    private readonly Process _process;
    private readonly string _name;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private ChildServerProcess(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    /// <summary>The address the server announced (a <c>tcp://…:0</c> request resolved to its port).</summary>
    public string Address { get; private set; } = "";

    /// <summary>The child's process id.</summary>
    public int Id => _process.Id;

    /// <summary>Starts the test program <paramref name="projectName"/> with <paramref name="arguments"/> and waits until it listens.</summary>
    public static Task<ChildServerProcess> StartAsync(string projectName, params IEnumerable<string> arguments) =>
        StartInAsync([], projectName, arguments);

    /// <summary>
    /// Starts the test program through <paramref name="launcher"/> (a command that runs the rest of its
    /// arguments, such as <c>ip netns exec NAME</c>, which execs them, so the process is the program's own).
    /// </summary>
    public static async Task<ChildServerProcess> StartInAsync(IReadOnlyList<string> launcher, string projectName, params IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(launcher.Count > 0 ? launcher[0] : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        if (launcher.Count > 0)
        {
            foreach (var word in launcher.Skip(1))
            {
                info.ArgumentList.Add(word);
            }

            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(BuiltBeside(projectName));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        var child = new ChildServerProcess(process, projectName);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                child._lines.Writer.TryComplete();
            }
            else
            {
                child._lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                child._lines.Writer.TryWrite("stderr: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            child.Address = (await child.WaitForLineAsync(ListeningPrefix, StartTimeout))[ListeningPrefix.Length..];
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }

        return child;
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

        throw new TimeoutException($"{_name} did not print '{prefix}…' within {timeout}; it printed:\n{string.Join('\n', seen)}");
    }

    /// <summary>Kills the process at once (SIGKILL): no shutdown, no goodbye, sockets and mappings left to the kernel.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(StartTimeout);
    }

    /// <summary>Closes the program's standard input, which the test servers take as "stop gracefully", and waits for it to exit.</summary>
    public async Task StopGracefullyAsync()
    {
        _process.StandardInput.Close();
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

    private static string BuiltBeside(string projectName)
    {
        // The tests run from tests/<test project>/bin/<configuration>/<framework>/; the program is
        // built beside it (a build-only project reference) with the same configuration.
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!;
        var testsRoot = configuration.Parent!.Parent!.Parent!;
        var path = Path.Combine(testsRoot.FullName, projectName, "bin", configuration.Name, framework.Name, projectName + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{projectName} is not built at {path}.", path);
    }
}
