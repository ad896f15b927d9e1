using RpcGen.Capnp;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>A small contract served over Cap'n Proto, to run that protocol over <c>shm:</c>.</summary>
[RpcService(0x5E57_5000_0000_0010)]
public interface IShmGreeter
{
    Task<string> GreetAsync(string name);

    /// <summary>Returns another greeter by reference: a capability travelling through the windows.</summary>
    Task<IShmGreeter> LoudAsync();
}

public sealed class ShmGreeter(bool loud = false) : IShmGreeter
{
    public Task<string> GreetAsync(string name) => Task.FromResult(loud ? $"HELLO {name.ToUpperInvariant()}" : $"hello {name}");

    public Task<IShmGreeter> LoudAsync() => Task.FromResult<IShmGreeter>(new ShmGreeter(loud: true));
}

/// <summary>The Cap'n Proto transport over shared memory, with only the address changed.</summary>
public sealed class CapabilityOverShmTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public CapabilityOverShmTests() => SharedMemoryLinks.Register();

    [Fact]
    public async Task Capnp_calls_and_capabilities_cross_the_windows()
    {
        await using var server = CapnpServer.Listen<IShmGreeter>(HostProcess.NewAddress(), new ShmGreeter());
        await using var client = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(s_timeout);
        var greeter = client.Bootstrap<IShmGreeter>();

        Assert.Equal("hello shm", await greeter.GreetAsync("shm").WaitAsync(s_timeout));
        var loud = await greeter.LoudAsync().WaitAsync(s_timeout);
        Assert.Equal("HELLO SHM", await loud.GreetAsync("shm").WaitAsync(s_timeout));
    }
}
