namespace RpcGen.Generators.Tests;

/// <summary>Contract sources shared by several tests.</summary>
internal static class TestSources
{
    public const string Greeter = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using RpcGen;

        namespace Acme;

        [RpcService]
        public interface IGreeter
        {
            Task<HelloReply> SayHelloAsync(HelloRequest request, CancellationToken cancellationToken = default);
            [OneWay] void Notify(string message);
            [RpcMethod(7)] ValueTask<int> AddAsync(int a, int b);
            Task PingAsync();
            [OneWay] ValueTask LogAsync(string line);
        }

        public record HelloRequest(string Name, int Times);

        public sealed class HelloReply
        {
            public string Message { get; set; } = "";
            public List<string>? Lines { get; init; }
        }
        """;
}
