using RpcGen.Capnp;
using RpcGen.Samples.Calculator;

// The Cap'n Proto C++ calculator sample, in C# over the capability transport; it speaks the same
// protocol as calculator-server and calculator-client, so each half works with the C++ other half.
const string Usage = """
    usage: Calculator serve ADDRESS   serve a Calculator until killed
           Calculator call ADDRESS    run the sample client's five checks against a Calculator
    ADDRESS is HOST:PORT (port 0 picks a free one) or unix:PATH
    """;

if (args.Length != 2 || args[0] is not ("serve" or "call"))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

string address;
try
{
    address = CalculatorAddress.ToLinkAddress(args[1]);
}
catch (ArgumentException error)
{
    Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}

if (args[0] == "serve")
{
    await using var server = CapnpServer.Listen<ICalculator>(address, new CalculatorService());
    Console.WriteLine($"Listening on {CalculatorAddress.FromLinkAddress(server.Address)}");

    // Serve until killed; Ctrl+C (or SIGTERM) ends it cleanly.
    var stop = new TaskCompletionSource();
    using var onSigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
    using var onSigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
    await stop.Task;
    return 0;
}

CapnpConnection connection;
try
{
    connection = await CapnpConnection.ConnectAsync(address).WaitAsync(TimeSpan.FromSeconds(20));
}
catch (Exception error) when (error is RpcGen.RpcException or System.Net.Sockets.SocketException or IOException or TimeoutException)
{
    Console.Error.WriteLine($"Could not connect to {args[1]}: {error.Message}");
    return 1;
}

await using var openConnection = connection;
var calculator = connection.Bootstrap<ICalculator>();
var results = await CalculatorChecks.RunAsync(calculator, TimeSpan.FromSeconds(20), result => Console.WriteLine(result));
return results.All(result => result.Passed) ? 0 : 1;
