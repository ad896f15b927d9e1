namespace RpcGen.Transport.Message.Tests;

/// <summary>The backoff between reconnection attempts: growing, capped, jittered within bounds, validated.</summary>
public class ReconnectPolicyTests
{
    private static readonly RpcReconnectPolicy Policy = new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(100),
        MaxBackoff = TimeSpan.FromSeconds(2),
        Multiplier = 2,
        Jitter = 0.5,
    };

    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(4, 800)]
    [InlineData(5, 1600)]
    [InlineData(6, 2000)]
    [InlineData(int.MaxValue, 2000)]
    public void Each_failure_multiplies_the_wait_up_to_the_cap(int failures, int expectedMilliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), Policy.BackoffAfter(failures, random: 0.5));
    }

    [Fact]
    public void Jitter_spreads_the_wait_by_its_fraction_and_never_past_the_cap()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(200), Policy.BackoffAfter(3, random: 0)); // 400 ms - 50 %
        Assert.Equal(TimeSpan.FromMilliseconds(600), Policy.BackoffAfter(3, random: 1)); // 400 ms + 50 %
        Assert.Equal(TimeSpan.FromSeconds(2), Policy.BackoffAfter(20, random: 1));
        Assert.Equal(TimeSpan.Zero, Policy.BackoffAfter(0, random: 0.7));
    }

    [Fact]
    public async Task A_bad_policy_is_refused_when_connecting_naming_the_setting()
    {
        var options = new RpcClientOptions { Reconnect = new RpcReconnectPolicy { Multiplier = 0.5 } };

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => RpcClient.ConnectAsync("tcp://127.0.0.1:1", options));

        Assert.Contains("RpcReconnectPolicy.Multiplier", error.Message);
    }
}
