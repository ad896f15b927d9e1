using Microsoft.Extensions.DependencyInjection;

namespace RpcGen.Hosting;

/// <summary>Adds services to the server <c>AddRpcGen</c> registered.</summary>
public interface IRpcGenServerBuilder
{
    /// <summary>The application's services.</summary>
    IServiceCollection Services { get; }
}

internal sealed class RpcGenServerBuilder(IServiceCollection services) : IRpcGenServerBuilder
{
    public IServiceCollection Services { get; } = services;
}
