using System.Text;
using MessagePack;
using RpcGen.Serialization;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Formatters named with [RpcUseFormatter] on a type, a member or the assembly carry those values over a real link.</summary>
public class UserFormatterTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Fact]
    public async Task Type_member_and_assembly_formatters_carry_their_values()
    {
        var server = new RpcServer(new RpcServerOptions());
        server.AddService<IReadingService>(new ReadingService());
        await server.StartAsync(TransportFixture.NewAddress("tcp"));
        try
        {
            await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(Timeout);
            var service = client.GetService<IReadingService>();
            var sent = new Reading { Outside = Temperature.FromCelsius(21.5), Notes = new StringBuilder("dry"), Secret = "abc", Plain = "abc" };

            var received = await service.EchoAsync(sent).WaitAsync(Timeout);
            var warmer = await service.WarmerAsync(Temperature.FromCelsius(0), 1.5).WaitAsync(Timeout);

            Assert.Equal(sent.Outside.Kelvin, received.Outside!.Kelvin);
            Assert.Equal("dry", received.Notes!.ToString());
            Assert.Equal("abc", received.Secret);
            Assert.Equal("abc", received.Plain);
            Assert.Equal(274.65, warmer.Kelvin, 10);
        }
        finally
        {
            await server.StopAsync(TimeSpan.FromSeconds(5)).WaitAsync(Timeout);
        }
    }

    [Fact]
    public void The_member_formatter_is_used_for_that_member_only()
    {
        // The generated formatter of Reading is registered, so its wire form can be read back by hand:
        // [outside, notes, secret, plain] with only the secret reversed.
        var bytes = RpcSerializer.Serialize(new Reading { Secret = "abc", Plain = "abc" }, RpcFormatter<Reading>.Instance);
        var reader = new MessagePackReader(bytes);

        Assert.Equal(4, reader.ReadArrayHeader());
        Assert.True(reader.TryReadNil());
        Assert.True(reader.TryReadNil());
        Assert.Equal("cba", reader.ReadString());
        Assert.Equal("abc", reader.ReadString());
    }
}
