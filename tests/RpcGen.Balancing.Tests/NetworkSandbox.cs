using System.Diagnostics;
using RpcGen.Capnp.Tests.Infrastructure;
using RpcGen.Testing;

namespace RpcGen.Balancing.Tests;

/// <summary>
/// Hosts of their own on this machine: each a network namespace joined to this one by a veth pair,
/// on a /24 the sandbox chose unused (10.X.N.0: .1 here, .2 there), with processes started in it.
/// Everything it made (namespaces, links, processes) goes at disposal, and namespaces left by an
/// earlier run that died are removed at creation. Needs root, <c>ip</c> (iproute2) and, for DNS,
/// <c>dnsmasq</c>: without them a test skips, or fails under <c>CI=true</c>.
/// </summary>
internal sealed class NetworkSandbox : IAsyncDisposable
{
    private const string Prefix = "rpcgen-";
    private static int s_sandboxes;

    private readonly string _ip;
    private readonly string _tag;
    private readonly int _octet;
    private readonly List<string> _namespaces = new();
    private readonly List<string> _hostLinks = new();
    private readonly List<IAsyncDisposable> _processes = new();

    private NetworkSandbox(string ip, string tag, int octet)
    {
        _ip = ip;
        _tag = tag;
        _octet = octet;
    }

    public static async Task<NetworkSandbox> CreateAsync()
    {
        var ip = ExternalTool.Find("ip") ?? (File.Exists("/usr/sbin/ip") ? "/usr/sbin/ip" : null);
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess || ip is null)
        {
            ExternalTool.Missing("network namespaces need Linux, root and 'ip'", "run as root after: apt-get install -y iproute2 dnsmasq");
        }

        await RemoveStaleAsync(ip!);
        var routes = (await ExternalTool.RunCheckedAsync(ip!, ["-4", "route"])).StdoutText;
        var octet = Enumerable.Range(0, 150).Select(i => 100 + ((Environment.ProcessId + i) % 150)).First(o => !routes.Contains($"10.{o}.", StringComparison.Ordinal));
        var tag = $"{Environment.ProcessId % 100000:x}{Interlocked.Increment(ref s_sandboxes):x}";
        return new NetworkSandbox(ip!, tag, octet);
    }

    /// <summary>The path of <c>dnsmasq</c>, or a skip (a failure under CI) naming how to install it.</summary>
    public static string RequireDnsmasq() =>
        ExternalTool.Find("dnsmasq") ?? (File.Exists("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : ExternalTool.Require("dnsmasq", "apt-get install -y dnsmasq"));

    /// <summary>Creates host number <paramref name="index"/> (1–250) and returns its address.</summary>
    public async Task<string> AddHostAsync(int index)
    {
        var name = Namespace(index);
        var here = $"rg{_tag}h{index}";
        var there = $"rg{_tag}n{index}";
        _namespaces.Add(name);
        await IpAsync("netns", "add", name);
        _hostLinks.Add(here);
        await IpAsync("link", "add", here, "type", "veth", "peer", "name", there);
        await IpAsync("link", "set", there, "netns", name);
        await IpAsync("addr", "add", $"10.{_octet}.{index}.1/24", "dev", here);
        await IpAsync("link", "set", here, "up");
        await IpAsync("netns", "exec", name, _ip, "addr", "add", $"10.{_octet}.{index}.2/24", "dev", there);
        await IpAsync("netns", "exec", name, _ip, "link", "set", there, "up");
        await IpAsync("netns", "exec", name, _ip, "link", "set", "lo", "up");
        return AddressOf(index);
    }

    public string AddressOf(int index) => $"10.{_octet}.{index}.2";

    /// <summary>Starts the message transport's test server in host <paramref name="index"/>, on port 5000 there.</summary>
    public async Task<ChildServerProcess> StartServerAsync(int index, bool hang = false)
    {
        var address = $"tcp://{AddressOf(index)}:5000";
        var server = await ChildServerProcess.StartInAsync(
            [_ip, "netns", "exec", Namespace(index)],
            "RpcGen.Transport.Message.TestServer",
            hang ? [address, "--hang"] : [address]);
        Track(server);
        return server;
    }

    /// <summary>Starts <paramref name="executable"/> in host <paramref name="index"/>; it is killed at disposal.</summary>
    public Process Start(int index, string executable, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(_ip) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var word in new[] { "netns", "exec", Namespace(index), executable }.Concat(arguments))
        {
            info.ArgumentList.Add(word);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {executable}.");
        Track(new KilledAtDisposal(process));
        return process;
    }

    public void Track(IAsyncDisposable process)
    {
        lock (_processes)
        {
            _processes.Add(process);
        }
    }

    public async ValueTask DisposeAsync()
    {
        IAsyncDisposable[] processes;
        lock (_processes)
        {
            processes = [.. _processes];
        }

        foreach (var process in processes)
        {
            await process.DisposeAsync();
        }

        // Deleting a namespace destroys the veth pair it holds an end of; a host end whose peer never
        // moved is deleted by name.
        foreach (var name in _namespaces)
        {
            await ExternalTool.RunAsync(_ip, ["netns", "del", name]);
        }

        foreach (var link in _hostLinks)
        {
            await ExternalTool.RunAsync(_ip, ["link", "del", link]);
        }
    }

    private string Namespace(int index) => $"{Prefix}{Environment.ProcessId}-{_tag}-{index}";

    private Task IpAsync(params string[] arguments) => ExternalTool.RunCheckedAsync(_ip, arguments);

    /// <summary>Removes namespaces of runs whose process is gone (killed before it could clean up), and what runs in them.</summary>
    private static async Task RemoveStaleAsync(string ip)
    {
        var list = (await ExternalTool.RunCheckedAsync(ip, ["netns", "list"])).StdoutText;
        foreach (var line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            var parts = name.Split('-');
            if (!name.StartsWith(Prefix, StringComparison.Ordinal) || parts.Length < 3 || !int.TryParse(parts[1], out var owner) || IsAlive(owner))
            {
                continue;
            }

            var pids = (await ExternalTool.RunAsync(ip, ["netns", "pids", name])).StdoutText;
            foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                try
                {
                    using var process = Process.GetProcessById(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture));
                    process.Kill();
                }
                catch (ArgumentException)
                {
                }
            }

            await ExternalTool.RunAsync(ip, ["netns", "del", name]);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private sealed class KilledAtDisposal(Process process) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                }
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }
    }
}
