using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RpcGen.Hosting;

/// <summary>Registers typed RpcGen clients: inject the <c>[RpcService]</c> interface and call it.</summary>
public static class RpcGenClientServiceCollectionExtensions
{
    /// <summary>
    /// Makes <typeparamref name="TService"/> injectable, backed by one shared (reconnecting)
    /// connection; the client's name is the interface's full name.
    /// </summary>
    public static IServiceCollection AddRpcClient<TService>(this IServiceCollection services, Action<RpcGenClientOptions> configure)
        where TService : class =>
        services.AddRpcClient<TService>(DefaultName<TService>(), (options, _) => configure(options));

    /// <summary>Like <see cref="AddRpcClient{TService}(IServiceCollection, Action{RpcGenClientOptions})"/>, with settings bound from <paramref name="configuration"/>.</summary>
    public static IServiceCollection AddRpcClient<TService>(this IServiceCollection services, IConfiguration configuration)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RpcGenClientOptions>(DefaultName<TService>()).Bind(configuration);
        return services.AddRpcClient<TService>(DefaultName<TService>(), static (_, _) => { });
    }

    /// <summary>
    /// Registers the client named <paramref name="name"/> (resolve it with
    /// <see cref="RpcGenClientFactory.GetService{TService}(string)"/>); the first client registered for
    /// <typeparamref name="TService"/> is also what injecting <typeparamref name="TService"/> gives.
    /// <paramref name="configure"/> runs when the client first connects, with the container at hand.
    /// </summary>
    public static IServiceCollection AddRpcClient<TService>(this IServiceCollection services, string name, Action<RpcGenClientOptions, IServiceProvider> configure)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RpcGenClientOptions>(name).Configure<IServiceProvider>(configure);
        services.TryAddSingleton<RpcGenClientFactory>();
        services.TryAddTransient(provider => provider.GetRequiredService<RpcGenClientFactory>().GetService<TService>(name));
        return services;
    }

    /// <summary>
    /// Adds a client interceptor to every client <c>AddRpcClient</c> registered, resolved once from
    /// the container; interceptors run in the order they were added, the first outermost.
    /// </summary>
    public static IServiceCollection AddRpcClientInterceptor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInterceptor>(this IServiceCollection services)
        where TInterceptor : RpcClientInterceptor
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<TInterceptor>();
        services.AddSingleton(new RpcGenInterceptorRegistration<RpcClientInterceptor>(provider => provider.GetRequiredService<TInterceptor>()));
        return services;
    }

    private static string DefaultName<TService>() => typeof(TService).FullName ?? typeof(TService).Name;
}
