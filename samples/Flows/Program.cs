using System.Diagnostics;
using Flows;
using RpcGen.Transport.Flow;
using RpcGen.Transport.Message;

// 100 concurrent flows between two "processes" (a server side and a client side, here in one
// process): 98 RPC clients making calls, one RPC client reading a server stream, and one raw flow
// moving 64 MiB, all over one cached network connection per remote.
FlowLinks.Register();
var failures = 0;
var timeout = TimeSpan.FromMinutes(2);

// The RPC server: only the address says "flow".
await using var server = new RpcServer();
server.AddService<IStation>(new Station());
await server.StartAsync("flow+tcp://127.0.0.1:0");
var rpcAddress = server.Addresses[0];
Console.WriteLine($"RPC server on {rpcAddress}");

// A raw-flow server through its own manager.
await using var rawServer = new FlowManager(new FlowManagerOptions { Name = "raw-server" });
var rawAddress = await rawServer.ListenAsync("tcp://127.0.0.1:0");
await using var rawClients = new FlowManager(new FlowManagerOptions { Name = "raw-client" });
Console.WriteLine($"raw flow server on {rawAddress}");

const int RawBytes = 64 * 1024 * 1024;
var rawSink = Task.Run(async () =>
{
    var flow = await rawServer.AcceptAsync().AsTask().WaitAsync(timeout);
    long received = 0;
    while (true)
    {
        var result = await flow.Input.ReadAsync();
        received += result.Buffer.Length;
        flow.Input.AdvanceTo(result.Buffer.End);
        if (result.IsCompleted)
        {
            break;
        }
    }

    await flow.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { BitConverter.GetBytes(received) });
    return received;
});

var callers = Enumerable.Range(0, 98).Select(async i =>
{
    await using var client = await RpcClient.ConnectAsync(rpcAddress).WaitAsync(timeout);
    var station = client.GetService<IStation>();
    var sum = 0;
    for (var call = 0; call < 20; call++)
    {
        sum += await station.AddAsync(i, call).WaitAsync(timeout);
    }

    return sum == (20 * i) + 190;
}).ToArray();

var streaming = Task.Run(async () =>
{
    await using var client = await RpcClient.ConnectAsync(rpcAddress).WaitAsync(timeout);
    var expected = 0;
    await foreach (var value in client.GetService<IStation>().CountAsync(0, 10_000))
    {
        if (value != expected++)
        {
            return false;
        }
    }

    return expected == 10_000;
});

var raw = Task.Run(async () =>
{
    var flow = await rawClients.DialAsync(rawAddress).WaitAsync(timeout);
    var chunk = new byte[64 * 1024];
    var watch = Stopwatch.StartNew();
    for (var sent = 0; sent < RawBytes; sent += chunk.Length)
    {
        await flow.Output.WriteAsync(chunk);
    }

    await flow.CloseWriteAsync();
    var echoed = BitConverter.ToInt64(await flow.ReadMessageAsync().AsTask().WaitAsync(timeout));
    var seconds = watch.Elapsed.TotalSeconds;
    await flow.DisposeAsync();
    return (echoed, seconds);
});

var callsOk = (await Task.WhenAll(callers).WaitAsync(timeout)).Count(ok => ok);
Check(callsOk == 98, $"98 RPC clients made 20 calls each over their own flow: {callsOk} correct");
Check(await streaming.WaitAsync(timeout), "a server stream of 10,000 items arrived in order");
var (echoedBytes, rawSeconds) = await raw.WaitAsync(timeout);
Check(echoedBytes == RawBytes && await rawSink == RawBytes, $"64 MiB moved on one raw flow: {RawBytes / 1048576.0 / rawSeconds:F0} MiB/s");

// Every RPC client dialed through the process-wide manager: one network connection to the RPC server.
var rpcConnection = await FlowManager.Default.FindCachedAsync(rpcAddress["flow+".Length..]);
Check(rpcConnection is not null, "the RPC clients' connection is cached");
var rtt = await rpcConnection!.PingAsync().WaitAsync(timeout);
var connections = FlowManager.Default.ConnectionCount + rawClients.ConnectionCount;
Console.WriteLine($"network connections used: {connections} (RPC: {FlowManager.Default.ConnectionCount}, raw: {rawClients.ConnectionCount}) for 100 flows");
Console.WriteLine($"measured RTT: {rtt.TotalMicroseconds:F0} µs");
Check(FlowManager.Default.ConnectionCount == 1 && rawClients.ConnectionCount == 1, "one network connection per remote");

Console.WriteLine(failures == 0 ? "OK" : $"{failures} check(s) failed");
return failures == 0 ? 0 : 1;

void Check(bool condition, string what)
{
    Console.WriteLine((condition ? "  ok   " : "  FAIL ") + what);
    if (!condition)
    {
        failures++;
    }
}
