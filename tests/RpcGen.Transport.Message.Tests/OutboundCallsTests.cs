using System.Buffers;
using System.Runtime.CompilerServices;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// The outbound table's lock-free shortcut for stream items (the call the last item was for) must not
/// keep a stream call alive, with the items its consumer never read, once the call left the table by
/// any way: a cancel or deadline, an error answer, the stream's end or the connection's close.
/// </summary>
public class OutboundCallsTests
{
    public enum Leaving
    {
        CancelOrDeadline,
        ErrorAnswer,
        StreamEnd,
        Close,
    }

    [Theory]
    [InlineData(Leaving.CancelOrDeadline)]
    [InlineData(Leaving.ErrorAnswer)]
    [InlineData(Leaving.StreamEnd)]
    [InlineData(Leaving.Close)]
    public void A_stream_call_that_left_the_table_is_not_kept_alive_by_the_item_shortcut(Leaving leaving)
    {
        var table = new OutboundCalls();
        var (callId, weak) = ListStreamCallAndReceiveItems(table);

        // The item shortcut only remembered the call; the call itself is referenced by the table alone.
        Leave(table, callId, leaving);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(weak.TryGetTarget(out _), $"The call that left by {leaving} is still reachable.");
    }

    [Fact]
    public void Items_find_their_open_stream_until_it_leaves_and_an_id_never_used_is_a_violation()
    {
        var table = new OutboundCalls();
        var first = new StreamCallDouble();
        var second = new StreamCallDouble();
        Assert.True(table.TryAdd(first));
        Assert.True(table.TryAdd(second));

        // Items alternating between two open streams each find their own call.
        for (var i = 0; i < 3; i++)
        {
            Assert.Same(first, table.FindForStreamItem(first.CallId));
            Assert.Same(second, table.FindForStreamItem(second.CallId));
            Assert.Same(second, table.FindForStreamItem(second.CallId));
        }

        Assert.True(table.TryRemove(second));
        Assert.Null(table.FindForStreamItem(second.CallId));
        Assert.Same(first, table.FindForStreamItem(first.CallId));
        Assert.Throws<ProtocolViolation>(() => table.FindForStreamItem(second.CallId + 1));
    }

    // Kept out of line so no local of the test method holds the call.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (uint CallId, WeakReference<PendingCall> Call) ListStreamCallAndReceiveItems(OutboundCalls table)
    {
        var call = new StreamCallDouble();
        Assert.True(table.TryAdd(call));
        for (var i = 0; i < 3; i++)
        {
            Assert.Same(call, table.FindForStreamItem(call.CallId));
        }

        return (call.CallId, new WeakReference<PendingCall>(call));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Leave(OutboundCalls table, uint callId, Leaving leaving)
    {
        switch (leaving)
        {
            case Leaving.CancelOrDeadline:
                Assert.True(table.TryRemove(table.FindForStreamFrame(callId, isStreamEnd: false)!));
                break;
            case Leaving.ErrorAnswer:
                Assert.NotNull(table.Take(callId));
                break;
            case Leaving.StreamEnd:
                Assert.NotNull(table.FindForStreamFrame(callId, isStreamEnd: true));
                break;
            case Leaving.Close:
                Assert.Single(table.Close());
                break;
        }

        Assert.Equal(0, table.Count);
    }

    // A response-streaming call as the table sees it; nothing here completes or fails it.
    private sealed class StreamCallDouble : PendingCall
    {
        public override bool EndsWithStream => true;

        public override void CompleteWithPayload(in ReadOnlySequence<byte> payload) => throw new InvalidOperationException("not answered in this test");

        public override void Fail(Exception exception, RpcStatusCode status) => throw new InvalidOperationException("not failed in this test");
    }
}
