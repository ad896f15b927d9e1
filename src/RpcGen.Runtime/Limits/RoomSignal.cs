namespace RpcGen.Limits;

/// <summary>
/// Wakes whoever waits for outbound room (writers over their limit, a reader stopped by
/// <see cref="OutboundBudget"/>) when a connection's held bytes go down. One signal serves every
/// waiter: each re-checks its own condition when woken, so one <see cref="Notify"/> after any
/// release is enough and no waiter can miss it.
/// </summary>
internal sealed class RoomSignal
{
    private TaskCompletionSource? _room;

    /// <summary>Wakes every current waiter (cheap when nobody waits).</summary>
    public void Notify() => Interlocked.Exchange(ref _room, null)?.TrySetResult();

    /// <summary>Waits while <paramref name="mustWait"/> holds; <see cref="Notify"/> (after a release or on close) makes it look again.</summary>
    public async ValueTask WaitWhileAsync(Func<bool> mustWait)
    {
        while (mustWait())
        {
            var room = Volatile.Read(ref _room);
            if (room is null)
            {
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                room = Interlocked.CompareExchange(ref _room, created, null) ?? created;
            }

            // Look again after publishing the signal: the room may have been made in between.
            if (!mustWait())
            {
                return;
            }

            await room.Task.ConfigureAwait(false);
        }
    }
}
