using RpcGen.Samples.Calculator;
using RpcGen.Transport.Flow;

namespace RpcGen.Capnp.Tests.Calculator;

/// <summary>The calculator checks with Cap'n Proto carried by a flow (one flow per Cap'n Proto connection).</summary>
public sealed class CalculatorFlowTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    static CalculatorFlowTests() => FlowLinks.Register();

    [Theory]
    [InlineData("flow+tcp://127.0.0.1:0")]
    [InlineData("flow+unix:")]
    public async Task Calculator_checks_pass_over_a_flow_and_two_connections_share_one_network_connection(string listen)
    {
        var socketPath = listen == "flow+unix:" ? Path.Combine(Path.GetTempPath(), $"rpcgen-calc-flow-{Guid.NewGuid():N}.sock") : null;
        await using var server = CapnpServer.Listen<ICalculator>(socketPath is null ? listen : listen + socketPath, new CalculatorService());
        Assert.StartsWith("flow+", server.Address);
        await using var first = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(Timeout);
        await using var second = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(Timeout);
        await CalculatorConnectionChecks.AssertAllPassOnEachAsync(Timeout, first, second);

        var network = await FlowManager.Default.FindCachedAsync(server.Address["flow+".Length..]);
        Assert.NotNull(network);
        Assert.True(network.FlowCount >= 2, $"both Cap'n Proto connections travel on one network connection ({network.FlowCount} flows)");
    }

    [Fact]
    public async Task Calculator_checks_pass_over_a_flow_on_mutual_tls()
    {
        var authority = RpcGen.Security.RpcCertificates.CreateAuthority("Calculator CA");
        RpcGen.Security.RpcTlsOptions Tls(string name) => new()
        {
            Certificate = RpcGen.Security.RpcCertificates.IssueIdentity(authority, name),
            CertificateAuthorities = [authority],
        };
        await using var server = CapnpServer.Listen<ICalculator>("flow+tls://127.0.0.1:0", new CalculatorService(), new CapnpConnectionOptions { Tls = Tls("server") });
        Assert.StartsWith("flow+tls://", server.Address);
        await using var connection = await CapnpConnection.ConnectAsync(server.Address, new CapnpConnectionOptions { Tls = Tls("client") }).WaitAsync(Timeout);
        using var calculator = (ICapnpProxy)connection.Bootstrap<ICalculator>();
        var results = await CalculatorChecks.RunAsync((ICalculator)calculator, Timeout);
        Assert.True(results.All(result => result.Passed), string.Join('\n', results));
    }
}
