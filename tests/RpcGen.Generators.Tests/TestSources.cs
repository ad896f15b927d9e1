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

    public const string Drawing = """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using RpcGen;

        namespace Drawing;

        [RpcKnownType(typeof(Circle), 1)]
        [RpcKnownType(typeof(Square), 2)]
        public abstract record Shape(string Name);
        public sealed record Circle(string Name, double Radius) : Shape(Name);
        public sealed record Square(string Name, double Side) : Shape(Name);

        [RpcKnownType(typeof(Dog), 0)]
        public class Animal
        {
            public string Name { get; set; } = "";
        }

        public class Dog : Animal
        {
            public bool GoodBoy { get; set; }
        }

        [RpcKnownType(typeof(Started), 1)]
        [RpcKnownType(typeof(Stopped), 2)]
        public interface IEvent;
        public readonly record struct Started(long At) : IEvent;
        public sealed class Stopped : IEvent
        {
            public string? Reason { get; init; }
        }

        [RpcService]
        public interface IDrawing
        {
            Task<double> AreaAsync(Shape shape);
            Task<List<Animal>> PetsAsync();
            Task PublishAsync(IEvent[] events);
        }
        """;
}
