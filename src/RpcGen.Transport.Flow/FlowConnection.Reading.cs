using System.Buffers;
using System.Buffers.Binary;

namespace RpcGen.Transport.Flow;

/// <summary>
/// The reader loop: one <c>Handle{Kind}</c> per frame kind, dispatched from one switch.
/// </summary>
/// <remarks>
/// Invariants: until the peer's SetupAck arrived only Setup, SetupAck and TearDown are accepted.
/// Any frame that breaks the protocol (credit overflow, data for an unknown or ended flow, a reused
/// id, a frame over the limit) ends this connection only: a teardown with the reason goes to the
/// peer and a warning to the log. Received bytes are handed to the flow's pipe outside the gate;
/// the pipe resumes its reader on the thread pool, never here.
/// </remarks>
public sealed partial class FlowConnection
{
    private sealed class ProtocolViolation(string message) : Exception(message);

    private async Task ReadLoopAsync()
    {
        await Task.Yield();
        var input = _link.Input;
        FlowException? failure = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (true)
                    {
                        var status = FlowFrames.TryParse(buffer, Limits.MaxFrameBytes, out var header, out var payload, out var end, out var error);
                        if (status == FlowParseStatus.Invalid)
                        {
                            throw new ProtocolViolation(error!);
                        }

                        if (status == FlowParseStatus.Incomplete)
                        {
                            break;
                        }

                        // Only a whole frame proves the peer alive: one that drips a frame a byte at a
                        // time is as dead as a silent one, and is closed at the channel timeout.
                        Interlocked.Exchange(ref _lastReceivedTimestamp, _time.GetTimestamp());
                        await HandleFrameAsync(header, payload).ConfigureAwait(false);
                        buffer = buffer.Slice(end);
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    if (!buffer.IsEmpty)
                    {
                        throw new ProtocolViolation($"The link ended inside a frame ({buffer.Length} bytes of it arrived).");
                    }

                    failure = new FlowException(FlowErrorCode.Network, $"The flow connection to {RemoteAddress} was lost: the peer closed the link.");
                    break;
                }
            }
        }
        catch (ProtocolViolation violation)
        {
            FlowLog.ProtocolViolation(_logger, RemoteAddress, violation.Message);
            failure = new FlowException(FlowErrorCode.Network, $"The flow connection to {RemoteAddress} broke the protocol: {violation.Message}");
            Terminate(failure, sendTearDown: true);
        }
        catch (Exception ex)
        {
            failure = ex as FlowException ?? new FlowException(FlowErrorCode.Network, $"The flow connection to {RemoteAddress} was lost: {ex.Message}", ex);
        }

        await input.CompleteAsync().ConfigureAwait(false);
        Terminate(failure ?? new FlowException(FlowErrorCode.Network, $"The flow connection to {RemoteAddress} was lost."), sendTearDown: false);
    }

    private ValueTask HandleFrameAsync(FlowFrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.Kind is not (FlowFrameKind.Setup or FlowFrameKind.SetupAck or FlowFrameKind.TearDown) && !_peerAck.Task.IsCompletedSuccessfully)
        {
            throw new ProtocolViolation($"A {header.Kind} frame arrived before the setup exchange finished.");
        }

        switch (header.Kind)
        {
            case FlowFrameKind.Setup:
                HandleSetup(payload);
                break;
            case FlowFrameKind.SetupAck:
                HandleSetupAck();
                break;
            case FlowFrameKind.Open:
                return HandleOpenAsync(header, payload);
            case FlowFrameKind.Data:
                return HandleDataAsync(header, payload);
            case FlowFrameKind.Release:
                HandleRelease(payload);
                break;
            case FlowFrameKind.Reset:
                HandleReset(header.FlowId, payload);
                break;
            case FlowFrameKind.Ping:
                Writer.SendControl(FlowFrames.Build(FlowFrameKind.Pong, 0, payload.ToArray()));
                break;
            case FlowFrameKind.Pong:
                HandlePong(payload);
                break;
            case FlowFrameKind.LameDuck:
                HandleLameDuck();
                break;
            case FlowFrameKind.LameDuckAck:
                _lameDuckAcked.TrySetResult();
                break;
            case FlowFrameKind.TearDown:
                var (code, reason) = FlowFrames.ReadTearDown(payload);
                Terminate(new FlowException(code, $"The peer closed the flow connection: {reason}"), sendTearDown: false);
                break;
        }

        return default;
    }

    // ─── Setup ────────────────────────────────────────────────────────────

    private void HandleSetup(in ReadOnlySequence<byte> payload)
    {
        if (_peerSetup.Task.IsCompleted)
        {
            throw new ProtocolViolation("The peer sent a second Setup frame.");
        }

        var setup = FlowFrames.ReadSetup(payload, out var error) ?? throw new ProtocolViolation(error!);
        if (setup.Version != FlowFrames.Version)
        {
            throw new ProtocolViolation($"The peer speaks flow protocol version {setup.Version}; this side speaks {FlowFrames.Version}.");
        }

        lock (Gate)
        {
            _peerShared = setup.SharedPoolBytes;
        }

        RemotePeer = new FlowPeer(_link.RemoteAddress, setup.Name, _link.PeerIdentity);
        _peerSetup.TrySetResult(setup);
    }

    private void HandleSetupAck()
    {
        if (!_peerSetup.Task.IsCompletedSuccessfully || _peerAck.Task.IsCompleted)
        {
            throw new ProtocolViolation("The peer sent a SetupAck before its Setup, or twice.");
        }

        _peerAck.TrySetResult();
    }

    // ─── Flow frames ──────────────────────────────────────────────────────

    private ValueTask HandleOpenAsync(FlowFrameHeader header, ReadOnlySequence<byte> payload)
    {
        var peer = _peerSetup.Task.Result;
        string? refusal = null;
        bool queueGrant;
        Flow flow;
        lock (Gate)
        {
            if ((header.FlowId % 2 == 1) != !IsDialer)
            {
                throw new ProtocolViolation($"The peer opened flow {header.FlowId}, an id of this side's parity.");
            }

            if (header.FlowId <= _highestRemoteId)
            {
                throw new ProtocolViolation(_flows.ContainsKey(header.FlowId)
                    ? $"The peer opened flow {header.FlowId} again while it is open."
                    : $"The peer reused flow id {header.FlowId}.");
            }

            if (_flows.Count >= 2 * Limits.MaxFlows)
            {
                throw new ProtocolViolation($"The peer keeps opening flows past twice MaxFlows ({Limits.MaxFlows}) without ending the refused ones.");
            }

            _highestRemoteId = header.FlowId;
            flow = new Flow(this, header.FlowId, dialed: false, Mtu(peer), initialCredit: peer.WindowBytes) { OpenWritten = true, PendingRelease = Limits.WindowBytes };
            _flows.Add(flow.Id, flow);
            _releaseFlows.Add(flow);
            if (_lameDuck)
            {
                refusal = "the connection is closing (lame duck)";
            }
            else if (_flows.Count > Limits.MaxFlows)
            {
                refusal = $"too many flows on the connection (MaxFlows {Limits.MaxFlows})";
            }
            else if (_awaitingAccept >= Limits.MaxFlows)
            {
                refusal = $"{_awaitingAccept} flows wait to be accepted on the connection (MaxFlows {Limits.MaxFlows})";
            }
            else
            {
                _awaitingAccept++;
            }

            // The accepted flow's first window goes out in the next release frame.
            queueGrant = refusal is null && QueueReleaseLocked(true);
        }

        if (refusal is not null)
        {
            ResetFlow(flow, refusal, new FlowException(FlowErrorCode.BadState, refusal));
        }
        else
        {
            if (queueGrant)
            {
                Writer.SendRelease();
            }

            Touch();
            flow.Start();
            _accepted.Writer.TryWrite(flow);
        }

        return HandleDataAsync(header, payload);
    }

    private async ValueTask HandleDataAsync(FlowFrameHeader header, ReadOnlySequence<byte> payload)
    {
        Flow? flow;
        bool deliver;
        bool queue = false;
        var length = payload.Length;
        lock (Gate)
        {
            if (!_flows.TryGetValue(header.FlowId, out flow))
            {
                var ours = (header.FlowId % 2 == 1) == IsDialer;
                var known = ours ? header.FlowId < _nextLocalId : header.FlowId <= _highestRemoteId;
                throw new ProtocolViolation(known
                    ? $"Data arrived for flow {header.FlowId}, which has ended."
                    : $"Data arrived for flow {header.FlowId}, which was never opened.");
            }

            if (flow.RemoteFinal)
            {
                throw new ProtocolViolation($"Data arrived for flow {header.FlowId} after the peer ended it.");
            }

            if ((header.Flags & FlowFrameFlags.Borrowed) != 0)
            {
                if (flow.IsDialed || flow.ReceivedOwn > 0)
                {
                    throw new ProtocolViolation($"Flow {header.FlowId} sent borrowed bytes on a flow it did not open, or after its window was granted.");
                }

                _peerBorrowed += length;
                flow.ReceivedBorrowed += length;
                if (_peerBorrowed > Limits.SharedPoolBytes)
                {
                    throw new ProtocolViolation($"Credit overflow: the peer borrowed {_peerBorrowed} bytes from a shared pool of {Limits.SharedPoolBytes}.");
                }
            }
            else
            {
                flow.ReceivedOwn += length;
                if (flow.ReceivedOwn > flow.Granted)
                {
                    throw new ProtocolViolation($"Credit overflow: flow {header.FlowId} sent {flow.ReceivedOwn} bytes on a window of {flow.Granted}.");
                }
            }

            deliver = !flow.InputDone;
            if (!deliver)
            {
                queue = ConsumeLocked(flow, length);
            }
        }

        if (length > 0)
        {
            Touch();
        }

        if (queue)
        {
            Writer.SendRelease();
        }

        if (deliver && (length > 0 || (header.Flags & FlowFrameFlags.MessageEnd) != 0))
        {
            await flow.DeliverAsync(payload, (header.Flags & FlowFrameFlags.MessageEnd) != 0).ConfigureAwait(false);
        }

        if ((header.Flags & FlowFrameFlags.End) != 0)
        {
            lock (Gate)
            {
                flow.RemoteFinal = true;
                RetireLocked(flow);
            }

            flow.EndInbound(null);
        }
    }

    private void HandleRelease(in ReadOnlySequence<byte> payload)
    {
        var peer = _peerSetup.Task.Result;
        var count = (int)(payload.Length / 8);
        lock (Gate)
        {
            var sharedChanged = false;
            for (var i = 0; i < count; i++)
            {
                var (id, tokens) = FlowFrames.ReadRelease(payload, i);
                if (id == 0)
                {
                    _peerShared += tokens;
                    sharedChanged = true;
                    if (_peerShared > peer.SharedPoolBytes)
                    {
                        throw new ProtocolViolation($"Credit overflow: the peer returned more to the shared pool than it holds ({_peerShared} > {peer.SharedPoolBytes}).");
                    }

                    continue;
                }

                if (!_flows.TryGetValue(id, out var flow))
                {
                    // Credit for a flow that ended here meanwhile: nothing to do.
                    continue;
                }

                flow.Borrowing = false;
                flow.Credit += tokens;
                if (flow.Credit > peer.WindowBytes)
                {
                    throw new ProtocolViolation($"Credit overflow: flow {id} was released {flow.Credit} bytes on a window of {peer.WindowBytes}.");
                }

                flow.CreditWaiter?.TrySetResult();
            }

            if (sharedChanged)
            {
                foreach (var flow in _flows.Values)
                {
                    if (flow.Borrowing)
                    {
                        flow.CreditWaiter?.TrySetResult();
                    }
                }
            }
        }
    }

    private void HandleReset(uint flowId, in ReadOnlySequence<byte> payload)
    {
        var reason = FlowFrames.ReadText(payload);
        Flow? flow;
        bool answer;
        bool queue;
        lock (Gate)
        {
            if (!_flows.TryGetValue(flowId, out flow) || flow.RemoteFinal)
            {
                throw new ProtocolViolation($"A reset arrived for flow {flowId}, which is not open or was already ended by the peer.");
            }

            flow.RemoteFinal = true;
            answer = !flow.LocalFinal;
            flow.IsResetLocally |= answer;
            flow.LocalFinal = true;
            flow.InputDone = true;
            queue = ConsumeLocked(flow, flow.ReceivedOwn + flow.ReceivedBorrowed - flow.Consumed);
            flow.CreditWaiter?.TrySetResult();
            RetireLocked(flow);
        }

        var error = new FlowException(FlowErrorCode.Aborted, $"The peer reset flow {flowId}: {reason}");
        flow.FailOutbound(error);
        flow.EndInbound(error);
        if (answer)
        {
            // This side's final frame; the peer retires the flow when it arrives.
            Writer.SendReset(flow, "reset acknowledged");
        }

        if (queue)
        {
            Writer.SendRelease();
        }
    }

    // ─── Connection frames ────────────────────────────────────────────────

    private void HandlePong(in ReadOnlySequence<byte> payload)
    {
        Span<byte> bytes = stackalloc byte[8];
        payload.CopyTo(bytes);
        if (_pings.TryRemove(BinaryPrimitives.ReadInt64LittleEndian(bytes), out var ping))
        {
            var rtt = _time.GetElapsedTime(ping.Started);
            Interlocked.Exchange(ref _rttTicks, rtt.Ticks);
            ping.Waiter?.TrySetResult(rtt);
        }
    }

    private void HandleLameDuck()
    {
        lock (Gate)
        {
            _peerLameDuck = true;
        }

        Writer.SendControl(FlowFrames.Build(FlowFrameKind.LameDuckAck, 0, default));
    }
}
