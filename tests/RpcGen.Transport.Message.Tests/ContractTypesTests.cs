namespace RpcGen.Transport.Message.Tests;

/// <summary>Values of the types users put in DTOs come back equal over a real link.</summary>
public class ContractTypesTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    private static async Task<T> OverLinkAsync<T>(string transport, Func<IContractTypesService, Task<T>> call)
    {
        var server = new RpcServer(new RpcServerOptions());
        server.AddService<IContractTypesService>(new ContractTypesService());
        await server.StartAsync(TransportFixture.NewAddress(transport));
        try
        {
            await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(Timeout);
            return await call(client.GetService<IContractTypesService>()).WaitAsync(Timeout);
        }
        finally
        {
            await server.StopAsync(TimeSpan.FromSeconds(5)).WaitAsync(Timeout);
        }
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task DateTime_keeps_its_kind(string transport)
    {
        var sent = new Moments(
            new DateTime(2026, 3, 1, 8, 30, 15, 123, DateTimeKind.Utc).AddTicks(4567),
            new DateTime(2026, 7, 14, 23, 59, 59, 999, DateTimeKind.Local),
            new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Unspecified),
            new DateTime(2000, 2, 29, 0, 0, 0, DateTimeKind.Local),
            [DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Unspecified), DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc)]);

        var received = await OverLinkAsync(transport, service => service.EchoMomentsAsync(sent));

        Assert.Equal(sent with { Many = received.Many }, received);
        Assert.Equal(sent.Many, received.Many);
        Assert.Equal(DateTimeKind.Utc, received.Utc.Kind);
        Assert.Equal(DateTimeKind.Local, received.Local.Kind);
        Assert.Equal(DateTimeKind.Unspecified, received.Unspecified.Kind);
        Assert.Equal(DateTimeKind.Local, received.Maybe!.Value.Kind);
        Assert.Equal([DateTimeKind.Unspecified, DateTimeKind.Utc], received.Many.Select(m => m.Kind));
    }
}
