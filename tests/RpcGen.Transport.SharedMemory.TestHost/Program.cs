using RpcGen.Transport.Message;
using RpcGen.Transport.SharedMemory;
using RpcGen.Transport.SharedMemory.TestHost;

// Usage: RpcGen.Transport.SharedMemory.TestHost ADDRESS [WINDOW_BYTES WINDOWS_PER_DIRECTION]
// Serves IShmService on ADDRESS (shm:PATH, flow+shm:PATH or unix:PATH), with those shared-memory windows if given,
// prints "listening ADDRESS" once it accepts connections and "started TEXT" when a HangAsync call
// arrives, then runs until killed or its standard input closes.
SharedMemoryLinks.Register(args.Length == 3
    ? new SharedMemoryOptions { WindowBytes = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), WindowsPerDirection = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) }
    : null);
RpcGen.Transport.Flow.FlowLinks.Register();
await using var server = new RpcServer();
server.AddService<IShmService>(new ShmService());
await server.StartAsync(args[0]);
Console.WriteLine($"listening {server.Addresses[0]}");
await Console.In.ReadToEndAsync();

internal sealed class ShmService : IShmService
{
    public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

    public Task<byte[]> EchoAsync(byte[] data) => Task.FromResult(data);

    public Task<int> ProcessIdAsync() => Task.FromResult(Environment.ProcessId);

    public async Task<string> HangAsync(string text)
    {
        Console.WriteLine($"started {text}");
        await new TaskCompletionSource().Task;
        return text;
    }

    public async IAsyncEnumerable<int> CountAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return i;
        }
    }

    public async Task<long> SumAsync(IAsyncEnumerable<int> values)
    {
        long sum = 0;
        await foreach (var value in values)
        {
            sum += value;
        }

        return sum;
    }

    public async Task<long> CallBackAsync(IShmCallback callback, int times)
    {
        long sum = 0;
        for (var i = 0; i < times; i++)
        {
            sum += await callback.TwiceAsync(i);
        }

        return sum;
    }
}
