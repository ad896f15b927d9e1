namespace RpcGen.Capnp.Tests.HandlerExecution;

/// <summary>A service whose methods block their thread, as a handler should not but sometimes does.</summary>
[RpcService(0xd1f0_5e7a_0000_0010)]
public interface IBlockingProbe
{
    /// <summary>Blocks its thread (a synchronous wait) until the test opens the gate; returns 1 if it was opened.</summary>
    Task<int> BlockAsync();

    /// <summary>Another object of the same service on the same connection, sharing the gate.</summary>
    IBlockingProbe Sibling();

    Task<string> EchoAsync(string text);

    /// <summary>Calls <paramref name="answerer"/> back and waits for the answer synchronously (<c>.GetAwaiter().GetResult()</c>).</summary>
    Task<string> AskAndWaitAsync(IAnswerer answerer, string question);

    /// <summary>Calls <paramref name="answerer"/> back and awaits the answer.</summary>
    Task<string> AskAsync(IAnswerer answerer, string question);

    /// <summary>Records <paramref name="number"/> when the method starts, and whether it started cancelled.</summary>
    Task RecordAsync(int number, CancellationToken cancellationToken);
}

/// <summary>A callback a client passes to <see cref="IBlockingProbe"/>.</summary>
[RpcService(0xd1f0_5e7a_0000_0011)]
public interface IAnswerer
{
    Task<string> AnswerAsync(string question);
}
