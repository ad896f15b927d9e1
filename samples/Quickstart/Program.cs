using Quickstart;
using RpcGen;
using RpcGen.Transport.Message;

// One server, two real transports: a TCP port and a Unix socket.
var inventory = new Inventory();
await using var server = new RpcServer();
server.AddService<IInventory>(inventory);
var socketPath = Path.Combine(Path.GetTempPath(), $"rpcgen-quickstart-{Environment.ProcessId}.sock");
await server.StartAsync("tcp://127.0.0.1:0", $"unix:{socketPath}");

var failures = 0;
foreach (var address in server.Addresses)
{
    await using var client = await RpcClient.ConnectAsync(address);
    var remote = client.GetService<IInventory>();

    var stock = await remote.AddAsync(new Item("widget", 3, ["blue", "small"]));
    Console.WriteLine($"[{address}] added 3 widgets -> {stock.Quantity} in stock");

    var again = await remote.GetStockAsync("widget");
    Check(again.Quantity == stock.Quantity, $"[{address}] stock is {again.Quantity}");

    remote.Log($"hello from a client of {address}");
    var line = await inventory.LogLines.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    Check(line.EndsWith(address, StringComparison.Ordinal), $"[{address}] one-way call arrived: \"{line}\"");

    try
    {
        await remote.GetStockAsync("gizmo");
        Check(false, $"[{address}] a missing item should fail");
    }
    catch (RpcException ex)
    {
        Check(ex.StatusCode == RpcStatusCode.Failed, $"[{address}] server error came back as {ex.StatusCode}: {ex.Message}");
    }
}

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
