namespace RpcGen.Capnp;

/// <summary>
/// A promise for a capability, resolved in this process: a pipelined capability of a local call, a
/// capability made from a <see cref="Task{TResult}"/>, or the queue that holds calls during an
/// embargo. Calls made before resolution are queued and, on resolution, delivered to the target in
/// the order they were made; calls made while the queue drains join its end, so no call overtakes
/// an earlier one.
/// </summary>
internal sealed class LocalPromiseHook : CapabilityHook
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource _resolved = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Set once by Resolve; owned. Calls go straight to it once the queue has drained.
    private CapabilityHook? _resolution;

    // Calls waiting for the resolution, in call order. Valid until the drain after Resolve empties it.
    private Queue<(CallRequest Request, LocalPendingCall Call)>? _queue;
    private bool _draining;
    private bool _released;

    public override CapabilityHook? Resolved
    {
        get
        {
            lock (_gate)
            {
                return _draining ? null : _resolution;
            }
        }
    }

    public override bool IsPromise => Resolved is null;

    public override Task WhenMoreResolved => _resolved.Task;

    public override PendingCall Call(CallRequest request)
    {
        CapabilityHook target;
        lock (_gate)
        {
            if (_resolution is null || _draining)
            {
                var pending = new LocalPendingCall();
                (_queue ??= new()).Enqueue((request, pending));
                return pending;
            }

            target = _resolution.AddRef();
        }

        try
        {
            return target.Call(request);
        }
        finally
        {
            target.Release();
        }
    }

    /// <summary>Resolves the promise to <paramref name="resolution"/> (an owned reference) and delivers the queued calls.</summary>
    public void Resolve(CapabilityHook resolution)
    {
        lock (_gate)
        {
            if (_resolution is not null)
            {
                resolution.Release();
                return;
            }

            _resolution = resolution;
            _draining = true;
        }

        // Hold our own reference while draining: the promise may be released meanwhile.
        var target = resolution.AddRef();
        try
        {
            while (true)
            {
                (CallRequest Request, LocalPendingCall Call) next;
                lock (_gate)
                {
                    if (_queue is null || _queue.Count == 0)
                    {
                        _draining = false;
                        break;
                    }

                    next = _queue.Dequeue();
                }

                next.Call.Forward(target.Call(next.Request));
            }
        }
        finally
        {
            target.Release();
        }

        _resolved.TrySetResult();
        bool released;
        lock (_gate)
        {
            released = _released;
        }

        if (released)
        {
            ReleaseResolution();
        }
    }

    protected override void OnReleased()
    {
        lock (_gate)
        {
            _released = true;
            if (_resolution is null || _draining)
            {
                // Queued calls still go out when the promise resolves; whoever resolves it
                // releases the resolution afterwards.
                return;
            }
        }

        ReleaseResolution();
    }

    private void ReleaseResolution()
    {
        CapabilityHook? resolution;
        lock (_gate)
        {
            resolution = _resolution;
            _resolution = null;
        }

        resolution?.Release();
    }
}
