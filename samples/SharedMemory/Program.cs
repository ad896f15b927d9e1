using System.Diagnostics;
using RpcGen.Transport.Message;
using RpcGen.Transport.SharedMemory;
using SharedMemorySample;

// dotnet run -c Release --project samples/SharedMemory [-- --calls N]
// Starts a child server process serving IAdder on shm: and unix:, then times N sequential calls over
// each from this process and prints p50/p99 and the ratio; the last line is OK when every answer was
// right. (The child runs this same program with "serve SHM UNIX".)
// RPCGEN_SHM_SPIN_MICROSECONDS (inherited by the child) overrides the spin budget, to measure it.
var spin = Environment.GetEnvironmentVariable("RPCGEN_SHM_SPIN_MICROSECONDS");
SharedMemoryLinks.Register(spin is null ? null : new SharedMemoryOptions { SpinBudget = TimeSpan.FromMicroseconds(double.Parse(spin, System.Globalization.CultureInfo.InvariantCulture)) });
if (args.Length == 3 && args[0] == "serve")
{
    await using var server = new RpcServer();
    server.AddService<IAdder>(new Adder());
    await server.StartAsync(args[1], args[2]);
    Console.WriteLine("listening");
    await Console.In.ReadToEndAsync();
    return 0;
}

var calls = args.Length == 2 && args[0] == "--calls" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
var socketBase = Path.Combine(Path.GetTempPath(), $"rpcgen-sample-{Guid.NewGuid():N}");
var shmAddress = $"shm:{socketBase}-shm.sock";
var unixAddress = $"unix:{socketBase}-unix.sock";

var child = StartChild(shmAddress, unixAddress);
try
{
    if (await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(1)) != "listening")
    {
        Console.WriteLine("FAIL: the child server did not start: " + await child.StandardError.ReadToEndAsync());
        return 1;
    }

    Console.WriteLine($"child server pid {child.Id}; {calls:N0} sequential calls per transport");
    var shm = await MeasureAsync("shm ", shmAddress, calls);
    var unix = await MeasureAsync("unix", unixAddress, calls);
    Console.WriteLine($"ratio shm/unix: p50 {shm.P50 / unix.P50:F2}x, p99 {shm.P99 / unix.P99:F2}x");
    Console.WriteLine(shm.Ok && unix.Ok ? "OK" : "FAIL: wrong answers");
    return shm.Ok && unix.Ok ? 0 : 1;
}
finally
{
    child.StandardInput.Close();
    if (!child.WaitForExit(TimeSpan.FromSeconds(10)))
    {
        child.Kill();
    }
}

static async Task<(double P50, double P99, bool Ok)> MeasureAsync(string name, string address, int calls)
{
    await using var client = await RpcClient.ConnectAsync(address);
    var adder = client.GetService<IAdder>();
    var ok = true;
    for (var i = 0; i < Math.Min(calls, 2_000); i++)
    {
        ok &= await adder.AddAsync(i, 1) == i + 1;
    }

    var micros = new double[calls];
    for (var i = 0; i < calls; i++)
    {
        var started = Stopwatch.GetTimestamp();
        ok &= await adder.AddAsync(i, 2) == i + 2;
        micros[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
    }

    Array.Sort(micros);
    var p50 = micros[calls / 2];
    var p99 = micros[Math.Min(calls - 1, calls * 99 / 100)];
    Console.WriteLine($"{name}: p50 {p50,8:F1} µs   p99 {p99,8:F1} µs");
    return (p50, p99, ok);
}

static Process StartChild(string shmAddress, string unixAddress)
{
    // Run this same program again: through its apphost when there is one, else through dotnet.
    var self = Environment.ProcessPath!;
    var info = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
    {
        info.ArgumentList.Add(typeof(Adder).Assembly.Location);
    }

    foreach (var argument in new[] { "serve", shmAddress, unixAddress })
    {
        info.ArgumentList.Add(argument);
    }

    return Process.Start(info)!;
}
