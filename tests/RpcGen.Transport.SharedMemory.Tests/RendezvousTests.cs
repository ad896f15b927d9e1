using System.Buffers;
using System.Net.Sockets;
using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// What a hostile or broken peer can do at the rendezvous and in the windows of a link: the other
/// side refuses it with <see cref="RpcStatusCode.Disconnected"/> within a bound and goes on serving.
/// </summary>
public sealed class RendezvousTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly RpcLimits s_quickHandshake = new() { HandshakeTimeout = TimeSpan.FromSeconds(1) };

    public RendezvousTests() => SharedMemoryLinks.Register();

    private static string NewPath() => Path.Combine(Path.GetTempPath(), $"rpcgen-shm-{Guid.NewGuid():N}.sock");

    /// <summary>A fake server: accepts one client and lets <paramref name="act"/> do what it likes with the socket.</summary>
    private static async Task<RpcException> ConnectToFakeServerAsync(Action<Socket> act)
    {
        var path = NewPath();
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        try
        {
            var connecting = RpcLinks.ConnectAsync("shm:" + path, s_quickHandshake).AsTask();
            using var accepted = await listener.AcceptAsync().WaitAsync(s_timeout);
            act(accepted);
            var error = await Assert.ThrowsAsync<RpcException>(() => connecting.WaitAsync(s_timeout));
            Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
            return error;
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_hello_without_a_descriptor_is_refused()
    {
        var error = await ConnectToFakeServerAsync(socket => socket.Send(new byte[Rendezvous.HelloBytes]));

        Assert.Contains("no file descriptor", error.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(20)]
    public async Task A_hello_with_more_than_one_descriptor_is_refused_and_none_of_them_stays_open(int descriptors)
    {
        // Every copy the client receives is a new descriptor of this one file, so counting the
        // process's descriptors that point at it counts what the refusal left open. (Beyond the
        // room the client gives the control data, the kernel installs none: what it did install
        // must still be closed.)
        var temp = Path.Combine(Path.GetTempPath(), $"rpcgen-shm-fds-{Guid.NewGuid():N}");
        try
        {
            using var file = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.ReadWrite);
            var fd = (int)file.DangerousGetHandle();

            // As the kernel names the file (the temporary directory's path may go through a link).
            var target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget!;

            var error = await ConnectToFakeServerAsync(socket => SendWithDescriptors(socket, new byte[Rendezvous.HelloBytes], Enumerable.Repeat(fd, descriptors).ToArray()));

            Assert.Contains(descriptors == 2 ? "2 file descriptors instead of one" : "more ancillary data than one descriptor", error.Message);
            Assert.Equal(1, DescriptorsOpenOn(target));
        }
        finally
        {
            File.Delete(temp);
        }
    }

    [Fact]
    public async Task A_memory_file_in_huge_pages_is_refused_before_it_is_mapped()
    {
        // mmap rounds a hugetlbfs mapping up to whole huge pages, so unmapping the windows' length
        // would fail and leak the mapping; the client takes only a tmpfs memfd. Making such a file
        // needs no huge pages reserved (mapping it would).
        const uint MfdHugetlb = 4;
        const int HugePage = 2 * 1024 * 1024;
        var fd = LibC.MemfdCreate("rpcgen-test-huge", LibC.MfdCloexec | LibC.MfdAllowSealing | MfdHugetlb);
        // A kernel without hugetlbfs (or a sandbox such as gVisor) cannot make the file: the test
        // then fails, naming why, as a missing prerequisite must.
        Assert.True(fd >= 0, $"memfd_create(MFD_HUGETLB) failed with errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}: this kernel cannot make a huge-page memory file.");

        try
        {
            Assert.Equal(0, LibC.Ftruncate(fd, HugePage));
            Assert.Equal(0, LibC.Fcntl(fd, LibC.FAddSeals, LibC.SealShrink));

            var error = await ConnectToFakeServerAsync(socket => Rendezvous.SendHello(socket, fd, 64 * 1024, windowsPerDirection: 1, offset: 0));

            Assert.Contains("not on tmpfs", error.Message);
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary>Sends <paramref name="data"/> with every descriptor of <paramref name="fds"/> in one <c>SCM_RIGHTS</c> message.</summary>
    private static unsafe void SendWithDescriptors(Socket socket, byte[] data, int[] fds)
    {
        var controlBytes = 16 + (fds.Length * sizeof(int));
        var control = new byte[(controlBytes + 7) & ~7];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(control, (ulong)controlBytes);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(8), LibC.SolSocket);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(12), LibC.ScmRights);
        for (var i = 0; i < fds.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(16 + (i * sizeof(int))), fds[i]);
        }

        fixed (byte* payload = data)
        fixed (byte* controlData = control)
        {
            var iov = new LibC.IoVec { Base = payload, Length = (nuint)data.Length };
            var message = new LibC.MsgHdr { Iov = &iov, IovLength = 1, Control = controlData, ControlLength = (nuint)control.Length };
            Assert.Equal(data.Length, (int)LibC.SendMsg(socket.SafeHandle.DangerousGetHandle(), &message, LibC.MsgNoSignal));
        }
    }

    /// <summary>How many of this process's descriptors are open on <paramref name="path"/>.</summary>
    private static int DescriptorsOpenOn(string path) =>
        Directory.EnumerateFiles("/proc/self/fd").Count(link =>
        {
            try
            {
                return new FileInfo(link).LinkTarget == path;
            }
            catch (IOException)
            {
                // Closed between listing and reading.
                return false;
            }
        });

    [Fact]
    public async Task A_file_that_could_shrink_under_the_mapping_is_refused()
    {
        var temp = Path.GetTempFileName();
        try
        {
            using var file = File.OpenHandle(temp, FileMode.Open, FileAccess.ReadWrite);
            RandomAccess.SetLength(file, 1024 * 1024);
            var error = await ConnectToFakeServerAsync(socket => Rendezvous.SendHello(socket, (int)file.DangerousGetHandle(), 64 * 1024, windowsPerDirection: 1, offset: 0));

            Assert.Contains("shrink seal", error.Message);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    [Fact]
    public async Task Windows_past_the_end_of_the_file_are_refused()
    {
        using var allocator = new PacketWindowAllocator(windowCount: 2);

        var error = await ConnectToFakeServerAsync(socket => Rendezvous.SendHello(socket, allocator.FileDescriptor, allocator.WindowBytes, windowsPerDirection: 1, offset: 1024 * 1024));

        Assert.Contains("not usable", error.Message);
    }

    [Theory]
    [InlineData(0, 64 * 1024)]
    [InlineData(SharedMemoryOptions.MaxWindowsPerDirection + 1, 4096)]
    [InlineData(-1, 4096)]
    [InlineData(SharedMemoryOptions.MaxWindowsPerDirection, SharedMemoryOptions.MaxWindowBytes)]
    public async Task A_hostile_window_count_is_refused_before_anything_is_mapped(int windowsPerDirection, int windowBytes)
    {
        using var allocator = new PacketWindowAllocator(windowCount: 2);

        var error = await ConnectToFakeServerAsync(socket => Rendezvous.SendHello(socket, allocator.FileDescriptor, windowBytes, windowsPerDirection, offset: 0));

        Assert.Contains("window count", error.Message);
    }

    [Fact]
    public async Task A_window_count_the_file_cannot_hold_is_refused()
    {
        using var allocator = new PacketWindowAllocator(windowCount: 2);

        var error = await ConnectToFakeServerAsync(socket => Rendezvous.SendHello(socket, allocator.FileDescriptor, allocator.WindowBytes, windowsPerDirection: 2, offset: 0));

        Assert.Contains("not usable", error.Message);
    }

    [Fact]
    public async Task A_server_that_never_runs_the_window_handshake_times_out()
    {
        // One ring window and the call lane's one, each way.
        using var allocator = new PacketWindowAllocator(windowCount: 4);

        var error = await ConnectToFakeServerAsync(socket => Rendezvous.SendHello(socket, allocator.FileDescriptor, allocator.WindowBytes, windowsPerDirection: 1, offset: 0));

        Assert.Contains("handshake", error.Message);
    }

    [Fact]
    public async Task A_client_that_writes_a_garbage_length_is_cut_off_and_others_are_still_served()
    {
        var address = "shm:" + NewPath();
        await using var listener = RpcLinks.Listen(address, s_quickHandshake);

        // The hostile client does the rendezvous by hand, then fills the header of the
        // client-to-server window with a length no window holds.
        using var hostile = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await hostile.ConnectAsync(new UnixDomainSocketEndPoint(address["shm:".Length..])).WaitAsync(s_timeout);
        var hello = await Rendezvous.ReceiveHelloAsync(hostile, CancellationToken.None).WaitAsync(s_timeout);
        using (hello.File)
        using (var window = new RawWindow(hello.File.FileDescriptor, hello.Offset, hello.WindowBytes))
        {
            window.Length = uint.MaxValue;
            window.State = PacketHeader.ServerActive;
        }

        // The server hangs up on it.
        var received = await hostile.ReceiveAsync(new byte[1], SocketFlags.None).WaitAsync(s_timeout);
        Assert.Equal(0, received);

        // And serves the next, well-behaved client.
        var accepting = listener.AcceptAsync().AsTask();
        await using var good = await RpcLinks.ConnectAsync(address, s_quickHandshake).AsTask().WaitAsync(s_timeout);
        await using var served = (await accepting.WaitAsync(s_timeout))!;
        await good.Output.WriteAsync("hello"u8.ToArray());
        var read = await served.Input.ReadAtLeastAsync(5).AsTask().WaitAsync(s_timeout);
        Assert.Equal("hello"u8.ToArray(), System.Buffers.BuffersExtensions.ToArray(read.Buffer));
        served.Input.AdvanceTo(read.Buffer.End);
    }

    [Fact]
    public async Task A_link_the_listener_never_handed_out_ends_when_the_listener_is_disposed()
    {
        // The client's connect completes with the window handshake, whether or not anyone accepts
        // the server's side; a listener disposed with that side unclaimed must end it, or it keeps
        // its thread, socket and windows for as long as the client stays.
        var address = "shm:" + NewPath();
        var listener = (SharedMemoryListener)RpcLinks.Listen(address, s_quickHandshake);
        var disposed = false;
        try
        {
            await using var client = await RpcLinks.ConnectAsync(address, s_quickHandshake).AsTask().WaitAsync(s_timeout);

            // The server's side is established and waiting to be accepted (a rendezvous still
            // running at the dispose would end its link itself, and prove nothing here).
            await EndpointTests.WaitUntilAsync(() => listener.UnclaimedLinks == 1);
            disposed = true;
            await listener.DisposeAsync();

            try
            {
                var read = await client.Input.ReadAsync().AsTask().WaitAsync(s_timeout);
                Assert.True(read.IsCompleted, "The client read data from a link nobody accepted.");
            }
            catch (RpcException error)
            {
                Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
            }
        }
        finally
        {
            if (!disposed)
            {
                await listener.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_client_that_flips_the_length_while_the_server_reads_cannot_make_it_read_outside_the_window()
    {
        var address = "shm:" + NewPath();
        await using var listener = RpcLinks.Listen(address, s_quickHandshake);
        using var hostile = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await hostile.ConnectAsync(new UnixDomainSocketEndPoint(address["shm:".Length..])).WaitAsync(s_timeout);
        var hello = await Rendezvous.ReceiveHelloAsync(hostile, CancellationToken.None).WaitAsync(s_timeout);
        using (hello.File)
        using (var window = new RawWindow(hello.File.FileDescriptor, hello.Offset, hello.WindowBytes))
        {
            // Open the client-to-server window properly, then hand over a datagram while another
            // thread flips its length between a legal and an impossible value, a bounded number of times.
            window.State = PacketHeader.ServerActive;
            await EndpointTests.WaitUntilAsync(() => window.State != PacketHeader.ServerActive);
            using var stop = new CancellationTokenSource();
            var flipping = Task.Run(() =>
            {
                for (var i = 0; i < 200_000 && !stop.IsCancellationRequested; i++)
                {
                    window.Length = (i & 1) == 0 ? 5u : uint.MaxValue;
                }
            });
            window.State = PacketHeader.ServerActive;
            await flipping.WaitAsync(s_timeout);
            stop.Cancel();
        }

        // Whatever length the server read, it read it once and checked it: it either took a legal
        // datagram or cut the client off. Closing the hostile socket ends the link either way, and
        // the server goes on to serve a well-behaved client.
        hostile.Dispose();
        var accepting = listener.AcceptAsync().AsTask();
        await using var good = await RpcLinks.ConnectAsync(address, s_quickHandshake).AsTask().WaitAsync(s_timeout);
        await using var served = (await accepting.WaitAsync(s_timeout))!;
        await good.Output.WriteAsync("fine"u8.ToArray());
        var read = await served.Input.ReadAtLeastAsync(4).AsTask().WaitAsync(s_timeout);
        Assert.Equal("fine"u8.ToArray(), System.Buffers.BuffersExtensions.ToArray(read.Buffer));
        served.Input.AdvanceTo(read.Buffer.End);
    }

    [Fact]
    public async Task A_client_that_stops_taking_data_is_given_up_after_the_peer_response_timeout()
    {
        var provider = new SharedMemoryLinkProvider(new SharedMemoryOptions { PeerResponseTimeout = TimeSpan.FromSeconds(2) });
        var path = NewPath();
        await using var listener = provider.Listen("shm:" + path, new RpcLinkContext { Limits = s_quickHandshake });

        // The hostile client opens both windows by hand, then never acknowledges a datagram.
        using var hostile = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await hostile.ConnectAsync(new UnixDomainSocketEndPoint(path)).WaitAsync(s_timeout);
        var hello = await Rendezvous.ReceiveHelloAsync(hostile, CancellationToken.None).WaitAsync(s_timeout);
        using var file = hello.File;
        using var toServer = new RawWindow(file.FileDescriptor, hello.Offset, hello.WindowBytes);
        using var toClient = new RawWindow(file.FileDescriptor, hello.Offset + ((long)hello.WindowsPerDirection * hello.WindowBytes), hello.WindowBytes);
        toServer.State = PacketHeader.ServerActive;
        await EndpointTests.WaitUntilAsync(() => toClient.State == PacketHeader.ServerActive);
        toClient.State = PacketHeader.ClientActive;
        await using var served = (await listener.AcceptAsync().AsTask().WaitAsync(s_timeout))!;

        // The first chunks fill the pool; the next waits for an acknowledgement that never comes.
        // The link sends on the flushing thread, so the flood gets a thread of its own.
        var flood = new byte[(hello.WindowsPerDirection + 2) * hello.WindowBytes];
        var flooding = Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await served.Output.WriteAsync(flood).AsTask().WaitAsync(s_timeout);
            }
        });

        // Meanwhile another client of the same listener is served.
        await using (var good = await RpcLinks.ConnectAsync("shm:" + path, s_quickHandshake).AsTask().WaitAsync(s_timeout))
        await using (var goodServed = (await listener.AcceptAsync().AsTask().WaitAsync(s_timeout))!)
        {
            await good.Output.WriteAsync("ping"u8.ToArray()).AsTask().WaitAsync(s_timeout);
            var result = await goodServed.Input.ReadAtLeastAsync(4).AsTask().WaitAsync(s_timeout);
            Assert.Equal("ping"u8.ToArray(), result.Buffer.ToArray());
            goodServed.Input.AdvanceTo(result.Buffer.End);
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => flooding);
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains("did not hand control back", error.Message);
    }

    [Fact]
    public async Task Clients_beyond_the_rendezvous_limit_are_hung_up_on_while_one_stalls()
    {
        var limits = new RpcLimits { MaxConnections = 1, HandshakeTimeout = TimeSpan.FromSeconds(20) };
        var address = "shm:" + NewPath();
        await using var listener = RpcLinks.Listen(address, limits);

        // The first client takes its hello and then stalls in the window handshake.
        using var stalled = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await stalled.ConnectAsync(new UnixDomainSocketEndPoint(address["shm:".Length..])).WaitAsync(s_timeout);
        using var hello = (await Rendezvous.ReceiveHelloAsync(stalled, CancellationToken.None).WaitAsync(s_timeout)).File;

        var error = await Assert.ThrowsAsync<RpcException>(() => RpcLinks.ConnectAsync(address, limits).AsTask().WaitAsync(s_timeout));

        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
    }

    [Fact]
    public async Task The_pages_a_closed_link_wrote_are_freed_while_the_peer_keeps_the_memory_file()
    {
        await using var peer = await RawClient.ConnectAsync(s_timeout);

        // The server writes into every window of its ring, so the file holds those pages.
        var bytes = new byte[RawClient.Windows * RawClient.Chunk];
        new Random(3).NextBytes(bytes);
        await peer.Served.Output.WriteAsync(bytes).AsTask().WaitAsync(s_timeout);
        Assert.True(peer.WindowDataHasPages(), "The server's writes left no page in the windows' data.");

        // The link ends while the peer keeps its descriptor and its mappings: nothing of the
        // server's data stays allocated on the peer's behalf, and the header pages that stay say
        // the windows are shut down.
        await peer.CloseServedAsync();
        Assert.False(peer.WindowDataHasPages(), "Pages of the windows' data stayed allocated after the server's link closed.");
        Assert.All(peer.ToClient, window => Assert.Equal(PacketHeader.Shutdown, window.State));
    }
}
