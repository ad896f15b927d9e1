using System.Buffers;
using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>Two shared-memory links connected to each other in this process, for tests of one link's own behaviour.</summary>
internal static class LinkPair
{
    /// <summary>Listens on a new address and connects to it, both ends with <paramref name="options"/> (and <paramref name="limits"/>, if given); each step within <paramref name="timeout"/>.</summary>
    public static async Task<(RpcLinkListener Listener, RpcLink Client, RpcLink Server)> ConnectAsync(SharedMemoryOptions options, TimeSpan timeout, RpcLimits? limits = null)
    {
        var provider = new SharedMemoryLinkProvider(options);
        var address = HostProcess.NewAddress();
        var context = new RpcLinkContext { Limits = limits ?? RpcLimits.Default };
        var listener = provider.Listen(address, context);
        var accepted = listener.AcceptAsync().AsTask();
        var client = await provider.ConnectAsync(address, context, CancellationToken.None).AsTask().WaitAsync(timeout);
        var server = (await accepted.WaitAsync(timeout))!;
        return (listener, client, server);
    }

    /// <summary>Every byte <paramref name="input"/> delivers until it completes (it throws when the link failed).</summary>
    public static async Task<byte[]> ReadToEndAsync(System.IO.Pipelines.PipeReader input)
    {
        var bytes = new List<byte>();
        while (true)
        {
            var result = await input.ReadAsync();
            bytes.AddRange(result.Buffer.ToArray());
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return [.. bytes];
            }
        }
    }
}
