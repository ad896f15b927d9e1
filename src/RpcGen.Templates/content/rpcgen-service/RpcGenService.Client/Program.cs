using RpcGen.Transport.Message;
using RpcGenService.Contracts;

// Calls the server started by RpcGenService.Server.
var address = args.Length > 0 ? args[0] : "tcp://127.0.0.1:5000";
await using var client = await RpcClient.ConnectAsync(address);
var greeter = client.GetService<IGreeter>();
var greeting = await greeter.GreetAsync(new Person(Environment.UserName));
Console.WriteLine($"{greeting.Text} (sent {greeting.SentUtc:O})");
