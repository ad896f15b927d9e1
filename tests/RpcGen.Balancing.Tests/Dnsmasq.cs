using System.Diagnostics;
using System.Net;
using DnsClient;

namespace RpcGen.Balancing.Tests;

/// <summary>
/// A real DNS server (dnsmasq) in a sandbox host, publishing <c>_rpc._tcp.catalog.test</c> SRV records
/// (port 5000) and an A record per replica, as a Kubernetes headless service publishes its pods.
/// Changing the records restarts it, as dnsmasq reads SRV records only at start.
/// </summary>
internal sealed class Dnsmasq : IAsyncDisposable
{
    public const string SrvName = "_rpc._tcp.catalog.test";
    private readonly NetworkSandbox _sandbox;
    private readonly int _host;
    private readonly string _executable;
    private Process? _process;

    private Dnsmasq(NetworkSandbox sandbox, int host, string executable, IPAddress address)
    {
        _sandbox = sandbox;
        _host = host;
        _executable = executable;
        Address = address;
    }

    /// <summary>Where it answers (port 53).</summary>
    public IPAddress Address { get; }

    public static async Task<Dnsmasq> StartAsync(NetworkSandbox sandbox, int host, IReadOnlyList<string> replicaAddresses)
    {
        var executable = NetworkSandbox.RequireDnsmasq();
        var address = IPAddress.Parse(await sandbox.AddHostAsync(host));
        var dns = new Dnsmasq(sandbox, host, executable, address);
        await dns.PublishAsync(replicaAddresses);
        return dns;
    }

    /// <summary>(Re)starts the server publishing exactly <paramref name="replicaAddresses"/>, and waits until it answers with them.</summary>
    public async Task PublishAsync(IReadOnlyList<string> replicaAddresses)
    {
        await StopAsync();
        var arguments = new List<string>
        {
            "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--bind-interfaces",
            $"--listen-address={Address}", "--port=53", "--pid-file=", "--user=root", "--log-facility=-",
        };
        for (var i = 0; i < replicaAddresses.Count; i++)
        {
            arguments.Add($"--srv-host={SrvName},replica{i}.catalog.test,5000");
            arguments.Add($"--host-record=replica{i}.catalog.test,{replicaAddresses[i]}");
        }

        _process = _sandbox.Start(_host, _executable, arguments);

        // Ready when it answers with every record: each turn is a real query, bounded by its timeout.
        var lookup = new LookupClient(new LookupClientOptions(new IPEndPoint(Address, 53)) { UseCache = false, Timeout = TimeSpan.FromSeconds(1), Retries = 0, ThrowDnsErrors = false });
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            deadline.Token.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"dnsmasq exited with {_process.ExitCode}: {await _process.StandardError.ReadToEndAsync()}");
            }

            try
            {
                var answer = await lookup.QueryAsync(SrvName, QueryType.SRV, QueryClass.IN, deadline.Token);
                if (answer.Answers.SrvRecords().Count() == replicaAddresses.Count)
                {
                    return;
                }
            }
            catch (DnsResponseException)
            {
                // Not listening yet.
            }
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
