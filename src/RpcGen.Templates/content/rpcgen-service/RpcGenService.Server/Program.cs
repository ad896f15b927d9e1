using RpcGen.Transport.Message;
using RpcGenService.Contracts;

// Serves IGreeter until Ctrl+C.
var address = args.Length > 0 ? args[0] : "tcp://127.0.0.1:5000";
await using var server = new RpcServer();
server.AddService<IGreeter>(new Greeter());
await server.StartAsync(address);
Console.WriteLine($"Serving IGreeter on {string.Join(", ", server.Addresses)}; Ctrl+C stops.");

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
await stop.Task;

internal sealed class Greeter : IGreeter
{
    public Task<Greeting> GreetAsync(Person person, CancellationToken cancellationToken = default) =>
        Task.FromResult(new Greeting($"Hello, {person.Name}!", DateTime.UtcNow));
}
