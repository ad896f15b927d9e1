using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0025UndisposedResourceTests
{
    // The runtime's client and server are not referenced by the test compilations; these stand in for them
    // (an RpcGen class that is IAsyncDisposable is what the rule looks for).
    private const string Contract = """
        using System.IO;

        namespace RpcGen.Transport.Message
        {
            public sealed class RpcClient : IAsyncDisposable
            {
                public static ValueTask<RpcClient> ConnectAsync(string address) => new(new RpcClient());
                public T GetService<T>() where T : class => null!;
                public System.IO.Stream AsStream() => System.IO.Stream.Null;
                public ValueTask DisposeAsync() => default;
            }

            public sealed class RpcServer : IAsyncDisposable
            {
                public void Listen(string address) { }
                public ValueTask DisposeAsync() => default;
            }
        }

        namespace Shop
        {
            using RpcGen.Transport.Message;

            [RpcService]
            public interface ICounter : IAsyncDisposable { Task<int> IncrementAsync(); }

            [RpcService]
            public interface IPlain { Task<int> IncrementAsync(); }

            public sealed class Fixture
            {
                public async Task<RpcClient> ConnectAsync() => await RpcClient.ConnectAsync("tcp://127.0.0.1:5000");
            }

            [RpcService]
            public interface IFactory
            {
                Task<ICounter> CreateAsync(int start);
                ICounter Open(int start);
                Task<Stream> DownloadAsync(string name);
                Task UseAsync(ICounter counter);
                IPlain OpenPlain();
            }

        """;

    [Fact]
    public async Task A_capability_stream_client_or_server_that_is_only_used_is_reported()
    {
        var diagnostics = await VerifyAsync(Contract + """
                public sealed class Client
                {
                    public async Task<int> RunAsync(IFactory factory)
                    {
                        var {|RPC0025:counter = await factory.CreateAsync(1)|};
                        var {|RPC0025:promise = factory.Open(2)|};
                        var {|RPC0025:content = await factory.DownloadAsync("report")|};
                        var {|RPC0025:client = await RpcClient.ConnectAsync("tcp://127.0.0.1:5000")|};
                        var {|RPC0025:server = new RpcServer()|};
                        server.Listen("tcp://127.0.0.1:0");
                        if (counter is null || promise == null) { return 0; }
                        return await counter.IncrementAsync() + await promise.IncrementAsync() + content.ReadByte() + client.GetHashCode();
                    }
                }
            }
            """);

        Assert.Equal(
            [
                "'counter' holds a capability returned by 'IFactory.CreateAsync' and is never disposed, returned or stored; dispose it (await using) so the resources behind it are released",
                "'promise' holds a capability returned by 'IFactory.Open' and is never disposed, returned or stored; dispose it (await using) so the resources behind it are released",
                "'content' holds a stream returned by 'IFactory.DownloadAsync' and is never disposed, returned or stored; dispose it (await using) so the resources behind it are released",
                "'client' holds an RpcGen 'RpcClient' and is never disposed, returned or stored; dispose it (await using) so the resources behind it are released",
                "'server' holds an RpcGen 'RpcServer' and is never disposed, returned or stored; dispose it (await using) so the resources behind it are released",
            ],
            diagnostics.Select(Message));
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
    }

    [Fact]
    public async Task Disposed_returned_stored_passed_on_or_captured_is_not_reported()
    {
        await VerifyCleanAsync(Contract + """
                public sealed class Client
                {
                    private ICounter? _kept;
                    private readonly List<ICounter> _all = new();

                    public async Task<ICounter> RunAsync(IFactory factory, RpcClient connected, Fixture fixture)
                    {
                        var plain = factory.OpenPlain();
                        await plain.IncrementAsync();
                        var owned = await fixture.ConnectAsync();
                        await owned.GetService<ICounter>().IncrementAsync();
                        await using var scoped = await factory.CreateAsync(1);
                        await using (var block = await factory.CreateAsync(2)) { await block.IncrementAsync(); }
                        var disposed = await factory.CreateAsync(3);
                        await disposed.IncrementAsync();
                        await disposed.DisposeAsync();
                        var maybe = factory.Open(4);
                        await (maybe?.DisposeAsync() ?? default);
                        var stored = factory.Open(5);
                        _kept = stored;
                        var listed = factory.Open(6);
                        _all.Add(listed);
                        var passed = factory.Open(7);
                        await factory.UseAsync(passed);
                        var captured = factory.Open(8);
                        Func<Task<int>> later = () => captured.IncrementAsync();
                        var pair = (factory.Open(9), 1);
                        var local = connected.GetService<ICounter>();
                        await local.IncrementAsync();
                        using var content = await factory.DownloadAsync("report");
                        var returned = await factory.CreateAsync(10);
                        await returned.IncrementAsync();
                        return returned;
                    }

                    public async Task<int> WrapAsync()
                    {
                        var wrapped = await RpcClient.ConnectAsync("tcp://127.0.0.1:5000");
                        await using var stream = wrapped.AsStream();
                        return stream.ReadByte();
                    }

                    public async Task<RpcClient> ConnectAsync()
                    {
                        var client = await RpcClient.ConnectAsync("tcp://127.0.0.1:5000");
                        return client;
                    }
                }
            }
            """);
    }
}
