namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>Options a link provider refuses when it is created, rather than failing a wait later.</summary>
public sealed class OptionsTests
{
    [Fact]
    public void A_peer_response_timeout_beyond_what_a_wait_can_take_is_refused_and_infinite_is_accepted()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SharedMemoryLinkProvider(new SharedMemoryOptions { PeerResponseTimeout = TimeSpan.FromDays(30) }));
        Assert.Equal(nameof(SharedMemoryOptions.PeerResponseTimeout), error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SharedMemoryLinkProvider(new SharedMemoryOptions { PeerResponseTimeout = TimeSpan.Zero }));

        _ = new SharedMemoryLinkProvider(new SharedMemoryOptions { PeerResponseTimeout = Timeout.InfiniteTimeSpan });
        _ = new SharedMemoryLinkProvider(new SharedMemoryOptions { PeerResponseTimeout = TimeSpan.FromMilliseconds(int.MaxValue) });
    }
}
