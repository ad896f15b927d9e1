using RpcGen.Transport.Message;
using RpcGen.Transport.Message.TestServer;

// Usage: RpcGen.Transport.Message.TestServer ADDRESS [--hang]
// Serves IRestartService on ADDRESS, prints "listening ADDRESS" once it accepts connections and
// "started CALL" when a call begins, then runs until killed or its standard input closes.
var hang = args.Contains("--hang");
await using var server = new RpcServer();
server.AddService<IRestartService>(new RestartService(hang));
await server.StartAsync(args[0]);
Console.WriteLine($"listening {server.Addresses[0]}");
await Console.In.ReadToEndAsync();

internal sealed class RestartService(bool hang) : IRestartService
{
    public Task<int> ProcessIdAsync() => Task.FromResult(Environment.ProcessId);

    public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

    public Task<string> SubmitAsync(string text) => AnswerAsync("submit", text);

    public Task<string> ReadAsync(string key) => AnswerAsync("read", key);

    private async Task<string> AnswerAsync(string call, string text)
    {
        // Tell the test the call arrived, so it can kill the process with the call in flight.
        Console.WriteLine($"started {call} {text}");
        if (hang)
        {
            await Task.Delay(Timeout.Infinite);
        }

        return $"{call}:{text}:{Environment.ProcessId}";
    }
}
