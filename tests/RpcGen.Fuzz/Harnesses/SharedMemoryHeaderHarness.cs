using System.Runtime.InteropServices;
using RpcGen.Transport.SharedMemory;

namespace RpcGen.Fuzz.Harnesses;

/// <summary>
/// The shared-memory packet header (<see cref="PacketHeader"/>), which the peer process writes: the
/// input becomes a window's header and datagram area, and an endpoint of the side the first byte
/// picks takes control (reading the state word and the datagram length), copies the datagram out and
/// hands control back (checking the state word again). Documented rejections: <see cref="RpcException"/>
/// (a broken window protocol, or a peer that does not hand control over, both shut the window) and
/// <see cref="SharedMemoryShutdownException"/>.
/// </summary>
internal sealed unsafe class SharedMemoryHeaderHarness : FuzzHarness
{
    private const int WindowBytes = 4096;

    // No spinning and no waiting: a window whose state says the peer holds control fails at once.
    // Created on first use: nothing from an instrumented assembly may run before the libFuzzer loop starts.
    private SharedMemoryOptions? _options;

    private SharedMemoryOptions Options => _options ??= new() { SpinBudget = TimeSpan.Zero, PeerResponseTimeout = TimeSpan.FromMilliseconds(1) };

    private readonly byte* _window = (byte*)NativeMemory.AlignedAlloc(WindowBytes, 64);

    public override string Name => "shm-header";

    protected override void Parse(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var window = new Span<byte>(_window, WindowBytes);
        window.Clear();
        var side = (input[0] & 1) == 0 ? SharedMemoryEndpointSide.Client : SharedMemoryEndpointSide.Server;
        var endpoint = new SharedMemoryEndpoint(side, _window, WindowBytes, Options);
        try
        {
            // A client starts holding control of a fresh window: it hands it over first, as in a
            // conversation, so the header the peer then writes is read as the peer's hand-off (an
            // endpoint reads a datagram's length once, when it takes control).
            if (side == SharedMemoryEndpointSide.Client)
            {
                endpoint.HandOff(0);
            }

            input[1..Math.Min(input.Length, WindowBytes + 1)].CopyTo(window);
            var length = endpoint.AcquireControl(TimeSpan.Zero);
            FuzzCheck.That(length >= 0 && length <= endpoint.DataCapacity, "an accepted datagram length fits the window");
            var datagram = endpoint.Data[..length].ToArray();
            endpoint.HandOff(datagram.Length);
        }
        catch (RpcException)
        {
            // The window is shut down; only this connection is lost.
        }
        finally
        {
            endpoint.Detach();
        }
    }

    public override Task<IReadOnlyList<FuzzSeed>> CaptureSeedsAsync()
    {
        // Windows as real endpoints leave them mid-conversation (a detached endpoint marks its window
        // shut down, so each is copied before that): the client's datagram for the server, then the
        // server's answer for the client. The leading byte is the side that reads it; see Parse.
        var window = new Span<byte>(_window, WindowBytes);
        window.Clear();
        var sender = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, _window, WindowBytes, Options);
        "ping"u8.CopyTo(sender.Data);
        sender.HandOff(4);
        byte[] toServer = [1, .. window[..64]];

        var answerer = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, _window, WindowBytes, Options);
        _ = answerer.AcquireControl(TimeSpan.Zero);
        "pong!"u8.CopyTo(answerer.Data);
        answerer.HandOff(5);
        byte[] toClient = [0, .. window[..64]];
        answerer.Detach();
        sender.Detach();

        IReadOnlyList<FuzzSeed> seeds = [new FuzzSeed("to-server", toServer), new FuzzSeed("to-client", toClient)];
        return Task.FromResult(seeds);
    }
}
