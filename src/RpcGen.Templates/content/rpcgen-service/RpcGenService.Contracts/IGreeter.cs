using RpcGen;

namespace RpcGenService.Contracts;

/// <summary>The service: the generator writes its proxy, dispatcher and serializers.</summary>
[RpcService]
public interface IGreeter
{
    Task<Greeting> GreetAsync(Person person, CancellationToken cancellationToken = default);
}

public record Person(string Name);

public record Greeting(string Text, DateTime SentUtc);
