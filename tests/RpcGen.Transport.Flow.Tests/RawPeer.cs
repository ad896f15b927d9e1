using System.Buffers;
using RpcGen.Links;
using RpcGen.Transport.Flow;

namespace RpcGen.Transport.Flow.Tests;

/// <summary>A hand-driven peer: completes the setup exchange with raw frames, then sends whatever a test wants.</summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private RawPeer(RpcLink link, FlowConnection victim)
    {
        Link = link;
        Victim = victim;
    }

    public RpcLink Link { get; }

    /// <summary>The real connection on the other end.</summary>
    public FlowConnection Victim { get; }

    /// <summary>
    /// Connects to a real connection; <paramref name="windowBytes"/> is the window the raw side
    /// announces, so a huge one grants the victim credit the raw side will never read.
    /// </summary>
    public static async Task<RawPeer> StartAsync(FlowConnectionOptions? victimOptions = null, int windowBytes = 256 * 1024)
    {
        var (client, server) = await FlowPair.ConnectLinksAsync();
        var accepting = FlowConnection.AcceptAsync(server, victimOptions);
        await client.Output.WriteAsync(FlowFrames.BuildSetup(new FlowSetup(FlowFrames.Version, 64 * 1024, windowBytes, 1024 * 1024, 1024, "raw")));
        await client.Output.WriteAsync(FlowFrames.Build(FlowFrameKind.SetupAck, 0, default));
        return new RawPeer(client, await accepting.WaitAsync(FlowPair.Timeout));
    }

    public async Task SendAsync(byte[] frame) => await Link.Output.WriteAsync(frame);

    /// <summary>Reads frames until one of <paramref name="kind"/> arrives; null when the link ends first.</summary>
    public async Task<(FlowFrameHeader Header, byte[] Payload)?> ReceiveAsync(FlowFrameKind kind)
    {
        for (var reads = 0; reads < 10_000; reads++)
        {
            var result = await Link.Input.ReadAsync().AsTask().WaitAsync(FlowPair.Timeout);
            var buffer = result.Buffer;
            var found = false;
            try
            {
                while (FlowFrames.TryParse(buffer, int.MaxValue, out var header, out var payload, out var end, out _) == FlowParseStatus.Frame)
                {
                    buffer = buffer.Slice(end);
                    if (header.Kind == kind)
                    {
                        found = true;
                        return (header, payload.ToArray());
                    }
                }
            }
            finally
            {
                // Frames left after the one returned are not marked examined, so the next call
                // parses them at once instead of waiting for more bytes to arrive.
                Link.Input.AdvanceTo(buffer.Start, found ? buffer.Start : buffer.End);
            }

            if (result.IsCompleted)
            {
                return null;
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await Victim.DisposeAsync();
        Link.Abort();
    }
}
