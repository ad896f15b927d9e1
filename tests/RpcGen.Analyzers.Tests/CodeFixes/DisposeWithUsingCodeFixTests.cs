using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class DisposeWithUsingCodeFixTests
{
    private static readonly DisposeWithUsingCodeFixProvider Provider = new();

    private static string Client(string modifiers, string body) => $$"""
        using System.IO;

        namespace Shop;

        [RpcService]
        public interface ICounter : IAsyncDisposable { Task<int> IncrementAsync(); }

        [RpcService]
        public interface IFactory
        {
            Task<ICounter> CreateAsync(int start);
            Task<Stream> DownloadAsync(string name);
        }

        public sealed class Client
        {
            public {{modifiers}} Run(IFactory factory)
            {
                {{body}}
            }
        }
        """;

    [Fact]
    public async Task A_capability_in_async_code_gets_await_using()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.UndisposedResource,
            before: Client("async Task<int>", "var counter = await factory.CreateAsync(1); return await counter.IncrementAsync();"),
            after: Client("async Task<int>", "await using var counter = await factory.CreateAsync(1); return await counter.IncrementAsync();"),
            expectedTitle: "Dispose 'counter' with 'await using'");
    }

    [Fact]
    public async Task A_stream_in_synchronous_code_gets_using()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.UndisposedResource,
            before: Client("int", "var content = factory.DownloadAsync(\"r\").GetAwaiter().GetResult(); return content.ReadByte();"),
            after: Client("int", "using var content = factory.DownloadAsync(\"r\").GetAwaiter().GetResult(); return content.ReadByte();"),
            expectedTitle: "Dispose 'content' with 'using'");
    }

    [Fact]
    public async Task No_fix_for_an_async_disposable_in_synchronous_code()
    {
        await CodeFixHarness.VerifyNoFixAsync(Provider, DiagnosticIds.UndisposedResource, Client("int", "var counter = factory.CreateAsync(1).GetAwaiter().GetResult(); return counter.GetHashCode();"));
    }

    [Fact]
    public async Task Fix_All_disposes_every_local()
    {
        await CodeFixHarness.VerifyFixAllAsync(
            Provider,
            DiagnosticIds.UndisposedResource,
            before: Client("async Task<int>", "var a = await factory.CreateAsync(1); var b = await factory.CreateAsync(2); return await a.IncrementAsync() + await b.IncrementAsync();"),
            after: Client("async Task<int>", "await using var a = await factory.CreateAsync(1); await using var b = await factory.CreateAsync(2); return await a.IncrementAsync() + await b.IncrementAsync();"),
            title: "Dispose 'a' with 'await using'");
    }
}
