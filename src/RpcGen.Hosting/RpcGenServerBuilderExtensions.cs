using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RpcGen.Hosting;

/// <summary>Adds the services an RpcGen server serves.</summary>
public static class RpcGenServerBuilderExtensions
{
    /// <summary>
    /// Serves <typeparamref name="TService"/> (an <c>[RpcService]</c> interface) with
    /// <typeparamref name="TImplementation"/> resolved from dependency injection: by default a new
    /// scope per call (<see cref="RpcServiceLifetime.PerCall"/>), so scoped dependencies are fresh for
    /// each call and disposed after it.
    /// </summary>
    public static IRpcGenServerBuilder AddService<TService, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>(this IRpcGenServerBuilder builder, RpcServiceLifetime lifetime = RpcServiceLifetime.PerCall)
        where TService : class
        where TImplementation : class, TService
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (lifetime == RpcServiceLifetime.PerCall)
        {
            builder.Services.TryAddScoped<TImplementation>();
            return builder.Add<TService>(services => new PerCallScopeDispatcher<TService, TImplementation>(services.GetRequiredService<IServiceScopeFactory>()));
        }

        builder.Services.TryAddSingleton<TImplementation>();
        return builder.Add<TService>(services => RpcServiceRegistry.CreateDispatcher<TService>(services.GetRequiredService<TImplementation>()));
    }

    /// <summary>Serves <typeparamref name="TService"/> with one given instance for every call.</summary>
    public static IRpcGenServerBuilder AddService<TService>(this IRpcGenServerBuilder builder, TService implementation)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(implementation);
        return builder.Add<TService>(_ => RpcServiceRegistry.CreateDispatcher(implementation));
    }

    /// <summary>
    /// Adds a server interceptor, resolved once from the container (so it can take singletons such
    /// as an <c>ILogger</c>); interceptors run in the order they were added, the first outermost.
    /// </summary>
    public static IRpcGenServerBuilder AddInterceptor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInterceptor>(this IRpcGenServerBuilder builder)
        where TInterceptor : RpcServerInterceptor
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TInterceptor>();
        builder.Services.AddSingleton(new RpcGenInterceptorRegistration<RpcServerInterceptor>(services => services.GetRequiredService<TInterceptor>()));
        return builder;
    }

    private static IRpcGenServerBuilder Add<TService>(this IRpcGenServerBuilder builder, Func<IServiceProvider, IRpcDispatcher> createDispatcher)
    {
        builder.Services.AddSingleton(new RpcGenServiceRegistration(typeof(TService), createDispatcher));
        return builder;
    }
}
