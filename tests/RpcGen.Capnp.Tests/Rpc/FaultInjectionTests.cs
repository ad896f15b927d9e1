using RpcGen.Capnp.Tests.Generated;
using RpcGen.Transport.Message.Tests;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>
/// The byte stream under a Cap'n Proto client is cut or ended at offsets across a real conversation
/// (the bootstrap, echoes, and capabilities returned by calls and then called), in either direction.
/// Every call ends within the bound with its right answer or an <see cref="RpcException"/>; the
/// server ends the damaged connection and goes on serving its other client.
/// </summary>
public sealed class FaultInjectionTests
{
    private const int Echoes = 8;
    private const int Children = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static int s_run;

    public static TheoryData<string> Transports => ["tcp", "unix"];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_connection_cut_or_ended_at_any_byte_fails_only_its_own_calls(string transport)
    {
        var address = transport == "tcp" ? "tcp://127.0.0.1:0" : "unix:" + Path.Combine(Path.GetTempPath(), $"rpcgen-fault-{Guid.NewGuid():N}.sock");
        await using var server = CapnpServer.Listen<IStore>(address, new StoreService());
        await using var control = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(Timeout);
        using var controlStore = (IDisposable)control.Bootstrap<IStore>();
        Assert.Equal(1, (await ((IStore)controlStore).EchoAsync(new Sample { Int = 1 }).WaitAsync(Timeout)).Int);
        var kept = server.Connections.Single();

        var clean = await RunAsync(server, kept, outbound: null, inbound: null);
        Assert.Equal(Echoes + Children, clean.Succeeded);

        var runsThatLostCalls = 0;
        foreach (var kind in new[] { FaultKind.Cut, FaultKind.Truncate })
        {
            foreach (var offset in Offsets(clean.Sent))
            {
                runsThatLostCalls += (await RunAsync(server, kept, new Fault(kind, offset), inbound: null)).Succeeded < Echoes + Children ? 1 : 0;
            }

            foreach (var offset in Offsets(clean.Received))
            {
                runsThatLostCalls += (await RunAsync(server, kept, outbound: null, new Fault(kind, offset))).Succeeded < Echoes + Children ? 1 : 0;
            }
        }

        // The faults did land inside the conversation, not after it.
        Assert.True(runsThatLostCalls > 0);

        Assert.Equal(2, (await ((IStore)controlStore).EchoAsync(new Sample { Int = 2 }).WaitAsync(Timeout)).Int);
        Assert.Same(kept, server.Connections.Single());
    }

    private static IEnumerable<long> Offsets(long total) =>
        new long[] { 0, 1, 9 }.Concat(Enumerable.Range(1, 8).Select(i => total * i / 9)).Distinct();

    private static async Task<(int Succeeded, long Sent, long Received)> RunAsync(CapnpServer server, CapnpConnection kept, Fault? outbound, Fault? inbound)
    {
        var run = Interlocked.Increment(ref s_run) * 1000;
        var description = $"outbound {outbound?.ToString() ?? "clean"}, inbound {inbound?.ToString() ?? "clean"}";
        var address = FaultLinkProvider.Instance.Plan(server.Address, outbound, inbound);
        var succeeded = 0;
        await using (var connection = await CapnpConnection.ConnectAsync(address).WaitAsync(Timeout))
        {
            var store = connection.Bootstrap<IStore>();
            var echoes = Enumerable.Range(0, Echoes).Select(i => store.EchoAsync(new Sample { Int = run + i, Text = new string('x', i * 40) })).ToArray();
            var children = Enumerable.Range(0, Children).Select(i => ChildNameAsync(store, $"c{run + i}")).ToArray();
            for (var i = 0; i < Echoes; i++)
            {
                if (await EndAsync(echoes[i], description) is { } echoed)
                {
                    Assert.Equal(run + i, echoed.Int);
                    succeeded++;
                }
            }

            for (var i = 0; i < Children; i++)
            {
                if (await EndAsync(children[i], description) is { } name)
                {
                    Assert.Equal($"c{run + i}", name);
                    succeeded++;
                }
            }

            ((IDisposable)store).Dispose();
        }

        // The server ends the damaged connection (the kept one stays).
        using var bound = new CancellationTokenSource(Timeout);
        while (server.Connections.FirstOrDefault(c => c != kept) is { } damaged)
        {
            Assert.False(bound.IsCancellationRequested, $"{description}: the server still holds the damaged connection.");
            await damaged.Completion.ContinueWith(static _ => { }, TaskScheduler.Default).WaitAsync(bound.Token);

            // The server drops it from its list in its own continuation of Completion.
            await Task.Yield();
        }

        var link = FaultLinkProvider.Instance.Opened(address);
        return (succeeded, link?.BytesSent ?? 0, link?.BytesReceived ?? 0);
    }

    private static async Task<string> ChildNameAsync(IStore store, string name)
    {
        var child = await store.ChildAsync(name);
        try
        {
            return await child.NameAsync();
        }
        finally
        {
            ((IDisposable)child).Dispose();
        }
    }

    // The call's result, or null when it failed with an RpcException; a hang past the bound fails the test.
    private static async Task<T?> EndAsync<T>(Task<T> call, string description)
        where T : class
    {
        try
        {
            return await call.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{description}: a call did not end within {Timeout}.");
            throw;
        }
        catch (RpcException)
        {
            return null;
        }
    }
}
