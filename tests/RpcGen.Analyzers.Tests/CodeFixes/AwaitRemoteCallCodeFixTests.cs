using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class AwaitRemoteCallCodeFixTests
{
    private static readonly AwaitRemoteCallCodeFixProvider Provider = new();

    private static string Client(string modifiers, string body) => $$"""
        namespace Shop;

        [RpcService]
        public interface ICalculator
        {
            Task<int> AddAsync(int a, int b);
            Task ResetAsync();
        }

        public sealed class Client
        {
            public {{modifiers}} Use(ICalculator calculator)
            {
                {{body}}
            }
        }
        """;

    [Fact]
    public async Task Result_becomes_await_in_an_async_method()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.BlockingCall,
            before: Client("async Task<int>", "return calculator.AddAsync(1, 2).Result + 1;"),
            after: Client("async Task<int>", "return await calculator.AddAsync(1, 2) + 1;"),
            expectedTitle: "Await the remote call");
    }

    [Fact]
    public async Task Result_used_further_is_parenthesized()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.BlockingCall,
            before: Client("async Task<string>", "return calculator.AddAsync(1, 2).Result.ToString();"),
            after: Client("async Task<string>", "return (await calculator.AddAsync(1, 2)).ToString();"),
            expectedTitle: "Await the remote call");
    }

    [Fact]
    public async Task Wait_becomes_await()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.BlockingCall,
            before: Client("async Task", "calculator.ResetAsync().Wait();"),
            after: Client("async Task", "await calculator.ResetAsync();"),
            expectedTitle: "Await the remote call");
    }

    [Fact]
    public async Task GetAwaiter_GetResult_becomes_await()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.BlockingCall,
            before: Client("async Task<int>", "var sum = calculator.AddAsync(1, 2).GetAwaiter().GetResult(); return sum;"),
            after: Client("async Task<int>", "var sum = await calculator.AddAsync(1, 2); return sum;"),
            expectedTitle: "Await the remote call");
    }

    [Fact]
    public async Task No_fix_where_the_method_is_not_async()
    {
        await CodeFixHarness.VerifyNoFixAsync(Provider, DiagnosticIds.BlockingCall, Client("int", "return calculator.AddAsync(1, 2).Result;"));
    }

    [Fact]
    public async Task Fix_All_awaits_every_blocking_call()
    {
        await CodeFixHarness.VerifyFixAllAsync(
            Provider,
            DiagnosticIds.BlockingCall,
            before: Client("async Task<int>", "calculator.ResetAsync().Wait(); return calculator.AddAsync(1, 2).Result;"),
            after: Client("async Task<int>", "await calculator.ResetAsync(); return await calculator.AddAsync(1, 2);"),
            title: "Await the remote call");
    }
}
