namespace RpcGen.Transport.Message.TestServer;

/// <summary>
/// The contract the reconnection tests call across a server restart. Compiled into both the test
/// server process and the tests (the same source, so the same ids).
/// </summary>
[RpcService]
public interface IRestartService
{
    /// <summary>The server process's id, so a test can tell which instance answered.</summary>
    Task<int> ProcessIdAsync();

    /// <summary>Adds two numbers.</summary>
    Task<int> AddAsync(int a, int b);

    /// <summary>Not idempotent: never answers on a server started with <c>--hang</c>, else echoes.</summary>
    Task<string> SubmitAsync(string text);

    /// <summary>Idempotent: never answers on a server started with <c>--hang</c>, else echoes.</summary>
    [Idempotent]
    Task<string> ReadAsync(string key);
}
