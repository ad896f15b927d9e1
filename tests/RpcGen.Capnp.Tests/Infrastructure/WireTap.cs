using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace RpcGen.Capnp.Tests.Infrastructure;

/// <summary>
/// A TCP relay between one client and one server that decodes every Cap'n Proto message crossing it
/// either way, so a test can count what really went on the wire (<c>release</c> messages and their
/// reference counts) whichever side is C++ and whichever is ours. A message is recorded before its
/// last byte is passed on, so once the receiver has acted on a message the tap has seen it.
/// </summary>
internal sealed class WireTap : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<TappedMessage> _messages = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _relay;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WireTap(int serverPort)
    {
        _listener.Start();
        _relay = RelayAsync(serverPort);
    }

    /// <summary>Where the client connects (<c>tcp://127.0.0.1:PORT</c>).</summary>
    public string Address => "tcp://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The address as <c>EzRpcClient</c> spells it.</summary>
    public string CppAddress => Address["tcp://".Length..];

    /// <summary>Relays one connection to the server listening on loopback <paramref name="serverPort"/>.</summary>
    public static WireTap To(int serverPort) => new(serverPort);

    /// <summary>The <c>release</c> messages seen so far in one direction.</summary>
    public IReadOnlyList<TappedMessage> Releases(bool fromClient)
    {
        lock (_messages)
        {
            return _messages.Where(m => m.FromClient == fromClient && m.Kind == RpcSchema.Message.Release).ToList();
        }
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds for the releases seen in one direction; returns them.</summary>
    public async Task<IReadOnlyList<TappedMessage>> WaitForReleasesAsync(bool fromClient, Func<IReadOnlyList<TappedMessage>, bool> condition, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_messages)
            {
                changed = _changed.Task;
            }

            var releases = Releases(fromClient);
            if (condition(releases))
            {
                return releases;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"After {timeout.TotalSeconds} s the tap had seen {releases.Count} release messages from the {(fromClient ? "client" : "server")}: {string.Join(", ", releases)}.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _relay;
        }
        catch (Exception error) when (error is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The relay ends with its sockets.
        }

        _stop.Dispose();
    }

    private async Task RelayAsync(int serverPort)
    {
        using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
        using var server = new TcpClient();
        await server.ConnectAsync(IPAddress.Loopback, serverPort, _stop.Token);
        var clientStream = client.GetStream();
        var serverStream = server.GetStream();
        await Task.WhenAny(PumpAsync(clientStream, serverStream, fromClient: true), PumpAsync(serverStream, clientStream, fromClient: false));
    }

    private async Task PumpAsync(Stream from, Stream to, bool fromClient)
    {
        var input = PipeReader.Create(from);
        var frames = new CapnpFrameReader();
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_stop.Token);
                var buffer = result.Buffer;
                while (frames.TryRead(ref buffer, out var message))
                {
                    Record(message, fromClient);
                }

                var consumed = result.Buffer.Slice(0, buffer.Start);
                foreach (var segment in consumed)
                {
                    await to.WriteAsync(segment, _stop.Token);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        finally
        {
            // One side closed: so does the other, as a direct connection would.
            to.Close();
            await input.CompleteAsync();
        }
    }

    private void Record(CapnpMessage message, bool fromClient)
    {
        var root = message.GetRoot();
        var kind = root.ReadUInt16(RpcSchema.Message.Which);
        uint id = 0, count = 0;
        if (kind == RpcSchema.Message.Release)
        {
            var release = root.ReadStruct(RpcSchema.Message.Body);
            id = release.ReadUInt32(RpcSchema.Release.Id);
            count = release.ReadUInt32(RpcSchema.Release.ReferenceCount);
        }

        TaskCompletionSource changed;
        lock (_messages)
        {
            _messages.Add(new TappedMessage(fromClient, kind, id, count));
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}

/// <summary>One message the tap saw: its direction and kind, and for a <c>release</c> the export id and reference count.</summary>
internal readonly record struct TappedMessage(bool FromClient, ushort Kind, uint Id, uint ReferenceCount);
