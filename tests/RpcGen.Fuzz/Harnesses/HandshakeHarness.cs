using System.IO.Pipelines;
using System.Net.Sockets;
using RpcGen.Links;
using RpcGen.Fuzz.Seeds;
using RpcGen.Security;
using RpcGen.Transport.Message;
using RpcGen.Transport.SharedMemory;

namespace RpcGen.Fuzz.Harnesses;

/// <summary>
/// Our handshake bytes (not the OS's TLS: <c>SslStream</c> is not ours to fuzz). The first input byte
/// picks the target, the rest is what a hostile peer sends:
/// <list type="number">
/// <item>the pre-shared-key layer's server handshake (<see cref="RpcPskLayer"/>): the peer's X25519 key
/// and confirmation record; it must fail with <see cref="RpcStatusCode.PermissionDenied"/> within a bound
/// (nobody without the key can pass it);</item>
/// <item>the PSK record layer after a real handshake: the input is written raw under the client's
/// records (lengths, tags, records cut short); the server's link must end with an
/// <see cref="RpcException"/> or an end of stream, and never hand on a byte that did not authenticate;</item>
/// <item>the message protocol's opening: a live <see cref="RpcServer"/> reads the input from its very
/// first byte (hello or not, twice, an abort before it, another version);</item>
/// <item>the shared-memory rendezvous hello (<c>Rendezvous</c>): the input is sent over a Unix socket
/// pair as the server's hello, with a memory file attached or not (sealed or not, as the second byte
/// says); the client must reject it with <see cref="InvalidDataException"/> or adopt a file that
/// holds every window.</item>
/// </list>
/// The flow transport's setup exchange is read by <c>FlowFrames.ReadSetup</c>, which <c>flow-frames</c> fuzzes.
/// </summary>
internal sealed class HandshakeHarness : FuzzHarness
{
    private const byte PskHandshake = 0;
    private const byte PskRecords = 1;
    private const byte MessageOpening = 2;
    private const byte SharedMemoryHello = 3;
    private const int Targets = 4;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
    private static readonly byte[] Key = [.. Enumerable.Range(1, RpcPskLayer.KeyLength).Select(i => (byte)i)];

    // Created on first use: nothing from an instrumented assembly may run before the libFuzzer loop starts.
    private RpcPskLayer? _psk;
    private LiveMessageServer? _server;
    private UnixSocketPair? _rendezvous;
    private MemoryFile? _sealedFile;
    private int _unsealedFd = -1;

    public override string Name => "handshakes";

    // A PSK link's buffers (16 KiB records, two pipes each side) and a message connection are fixed costs per input.
    public override long AllocationBound(int inputLength) => base.AllocationBound(inputLength) + (1L << 20);

    protected override long AllocatedBytes() => LiveMessageServer.AllocatedBytes();

    protected override void Parse(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var peer = input[1..].ToArray();
        switch (input[0] % Targets)
        {
            case PskHandshake:
                PskHandshakeFrom(peer);
                break;
            case PskRecords:
                PskRecordsFrom(peer);
                break;
            case MessageOpening:
                (_server ??= new LiveMessageServer()).Converse([], peer);
                break;
            case SharedMemoryHello:
                SharedMemoryHelloFrom(peer);
                break;
        }
    }

    private void PskHandshakeFrom(byte[] peer)
    {
        _psk ??= new RpcPskLayer(Key);
        var (client, server) = RpcLinks.CreateMemoryPair("psk-peer");
        var handshake = _psk.WrapAsync(server, server: true, CancellationToken.None).AsTask();
        Complete(WriteAndCloseAsync(client.Output, peer), "the hostile peer's bytes were taken");
        try
        {
            Complete(handshake, "the server's handshake ended");
            throw new FuzzInvariantException("a peer without the pre-shared key passed the handshake");
        }
        catch (AggregateException ex) when (ex.InnerException is RpcException { StatusCode: RpcStatusCode.PermissionDenied })
        {
            // Refused, as it must be.
        }
        finally
        {
            client.Abort();
            server.Abort();
        }
    }

    private void PskRecordsFrom(byte[] peer)
    {
        _psk ??= new RpcPskLayer(Key);
        var (client, server) = RpcLinks.CreateMemoryPair("psk-peer");
        var serving = _psk.WrapAsync(server, server: true, CancellationToken.None).AsTask();
        var dialing = _psk.WrapAsync(client, server: false, CancellationToken.None).AsTask();
        Complete(Task.WhenAll(serving, dialing), "a real PSK handshake completed");
        var (served, dialed) = (serving.Result, dialing.Result);
        try
        {
            // Under the client's record layer, which sends nothing unless asked: the raw bytes are the peer's.
            Complete(WriteAndCloseAsync(client.Output, peer), "the hostile records were taken");
            var received = DrainAsync(served.Input);
            Complete(received, "the server's record layer ended after the peer's end of stream");
            FuzzCheck.That(received.Result == 0, $"no byte that did not authenticate reaches the protocol ({received.Result} did)");
        }
        finally
        {
            served.Abort();
            dialed.Abort();
        }
    }

    private static async Task WriteAndCloseAsync(PipeWriter output, byte[] bytes)
    {
        try
        {
            await output.WriteAsync(bytes).ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or RpcException or IOException)
        {
            // The server aborted the link first.
        }
    }

    // Reads to the end; the bytes read, or -1 when the link ended with an RpcException (an aborted link).
    private static async Task<long> DrainAsync(PipeReader input)
    {
        long total = 0;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                total += result.Buffer.Length;
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return total;
                }
            }
        }
        catch (RpcException)
        {
            return total;
        }
    }

    private void SharedMemoryHelloFrom(byte[] peer)
    {
        _rendezvous ??= UnixSocketPair.Create();
        _sealedFile ??= MemoryFile.Create("rpcgen-fuzz-rendezvous", 1 << 20);
        if (_unsealedFd < 0)
        {
            _unsealedFd = LibC.MemfdCreate("rpcgen-fuzz-unsealed", LibC.MfdCloexec);
            _ = LibC.Ftruncate(_unsealedFd, 1 << 20);
        }

        var options = peer.Length > 0 ? peer[0] : 0;
        var hello = peer.Length > 0 ? peer[1..] : [];
        var fd = (options & 1) == 0 ? -1 : (options & 2) == 0 ? _sealedFile.FileDescriptor : _unsealedFd;
        if (hello.Length == 0)
        {
            // Nothing to send: a stream socket carries no empty message.
            return;
        }

        _rendezvous.Send(hello, fd);
        try
        {
            var adopted = Rendezvous.ReceiveHelloNow(_rendezvous.Receiver);
            using var file = adopted.File;
            FuzzCheck.That(file.Length >= adopted.Offset + adopted.MappingBytes, "an adopted memory file holds every window the hello announced");
        }
        catch (InvalidDataException)
        {
            // Rejected, with the reason.
        }
        finally
        {
            _rendezvous.DrainReceiver();
        }
    }

    private static void Complete(Task task, string what)
    {
        if (!task.Wait(Bound))
        {
            throw new FuzzInvariantException($"not within {Bound.TotalSeconds} s: {what}");
        }
    }

    /// <summary>Captures each target's real opening: a PSK handshake and records, a message client's first frames, a shared-memory server's hello.</summary>
    public override async Task<IReadOnlyList<FuzzSeed>> CaptureSeedsAsync()
    {
        var seeds = new List<FuzzSeed>();
        var layer = new RpcPskLayer(Key);
        await using var listener = RpcLinks.Listen("tcp://127.0.0.1:0");
        await using (var relay = new CapturingRelay(CapturingRelay.EndPointOf(listener.Address)))
        {
            var accepting = AcceptPskAsync(listener, layer);
            await using (var dialed = await layer.WrapAsync(await RpcLinks.ConnectAsync(relay.Address), server: false, CancellationToken.None))
            {
                await dialed.Output.WriteAsync("over the inner layer"u8.ToArray());
                await using var served = await accepting.WaitAsync(Bound);
                var read = await served.Input.ReadAtLeastAsync(20).AsTask().WaitAsync(Bound);
                served.Input.AdvanceTo(read.Buffer.End);
            }

            await relay.DisposeAsync();
            var toServer = relay.ClientToServer;
            seeds.Add(new FuzzSeed("psk-client-handshake", [PskHandshake, .. toServer]));
            // After the 32-byte key, the client's records (confirmation, data) as raw bytes under a fresh handshake.
            seeds.Add(new FuzzSeed("psk-client-records", [PskRecords, .. toServer[RpcPskLayer.KeyLength..]]));
        }

        await using (var server = new RpcServer())
        {
            server.AddService<IFuzzStreams>(new FuzzStreamsService());
            await server.StartAsync("tcp://127.0.0.1:0");
            await using var relay = new CapturingRelay(CapturingRelay.EndPointOf(server.Addresses[0]));
            await using (var client = await RpcClient.ConnectAsync(relay.Address))
            {
                _ = await client.GetService<IFuzzStreams>().SumAsync(Numbers()).WaitAsync(Bound);
            }

            await relay.DisposeAsync();
            seeds.Add(new FuzzSeed("message-client-opening", [MessageOpening, .. relay.ClientToServer]));
        }

        // The real writer of the rendezvous hello, sending over a socket pair the harness then reads back.
        using var pair = UnixSocketPair.Create();
        using var file = MemoryFile.Create("rpcgen-fuzz-seed", 1 << 20);
        Rendezvous.SendHello(pair.Sender, file.FileDescriptor, 4096, 4, 0);
        var hello = new byte[Rendezvous.HelloBytes];
        var got = pair.Receiver.Receive(hello);
        seeds.Add(new FuzzSeed("shm-server-hello", [SharedMemoryHello, 1, .. hello[..got]]));
        return seeds;
    }

    private static async Task<RpcLink> AcceptPskAsync(RpcLinkListener listener, RpcPskLayer layer) =>
        await layer.WrapAsync(await listener.AcceptAsync() ?? throw new InvalidOperationException("The listener closed before the capture's client arrived."), server: true, CancellationToken.None);

    private static async IAsyncEnumerable<int> Numbers()
    {
        await Task.Yield();
        yield return 1;
    }

    /// <summary>A connected pair of Unix stream sockets (through a listener on a temporary path, removed at once).</summary>
    private sealed unsafe class UnixSocketPair : IDisposable
    {
        private UnixSocketPair(Socket sender, Socket receiver)
        {
            Sender = sender;
            Receiver = receiver;
        }

        public Socket Sender { get; }

        public Socket Receiver { get; }

        public static UnixSocketPair Create()
        {
            var path = Path.Combine(Path.GetTempPath(), $"rpcgen-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            var sender = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            sender.Connect(new UnixDomainSocketEndPoint(path));
            var receiver = listener.Accept();
            File.Delete(path);
            return new UnixSocketPair(sender, receiver);
        }

        /// <summary>Sends <paramref name="bytes"/> in one message, with <paramref name="fd"/> attached unless it is negative.</summary>
        public void Send(byte[] bytes, int fd)
        {
            fixed (byte* data = bytes)
            {
                var iov = new LibC.IoVec { Base = data, Length = (nuint)bytes.Length };
                var control = new LibC.FdControlMessage { Length = LibC.FdControlMessageLength, Level = LibC.SolSocket, Type = LibC.ScmRights, Fd = fd };
                var message = new LibC.MsgHdr { Iov = &iov, IovLength = 1 };
                if (fd >= 0)
                {
                    message.Control = &control;
                    message.ControlLength = (nuint)sizeof(LibC.FdControlMessage);
                }

                var sent = LibC.SendMsg(Sender.SafeHandle.DangerousGetHandle(), &message, LibC.MsgNoSignal);
                if (sent != bytes.Length)
                {
                    throw new IOException($"sendmsg sent {sent} of {bytes.Length} bytes.");
                }
            }
        }

        /// <summary>Reads what the last hello left in the socket (descriptors that came with it are closed), so the next input starts clean.</summary>
        public void DrainReceiver()
        {
            var buffer = new byte[4096];
            while (Receiver.Available > 0)
            {
                fixed (byte* data = buffer)
                {
                    var iov = new LibC.IoVec { Base = data, Length = (nuint)buffer.Length };
                    var control = default(LibC.FdControlMessage);
                    var message = new LibC.MsgHdr { Iov = &iov, IovLength = 1, Control = &control, ControlLength = (nuint)sizeof(LibC.FdControlMessage) };
                    var received = LibC.RecvMsg(Receiver.SafeHandle.DangerousGetHandle(), &message, LibC.MsgDontWait | LibC.MsgCmsgCloexec);
                    if (received <= 0)
                    {
                        return;
                    }

                    if (message.ControlLength >= LibC.FdControlMessageLength && control.Type == LibC.ScmRights)
                    {
                        _ = LibC.Close(control.Fd);
                    }
                }
            }
        }

        public void Dispose()
        {
            Sender.Dispose();
            Receiver.Dispose();
        }
    }
}
