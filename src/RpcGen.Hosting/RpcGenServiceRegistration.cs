namespace RpcGen.Hosting;

/// <summary>An interceptor to resolve from the container when the server or a client is built, in registration order.</summary>
internal sealed class RpcGenInterceptorRegistration<TInterceptor>(Func<IServiceProvider, TInterceptor> resolve)
{
    public TInterceptor Resolve(IServiceProvider services) => resolve(services);
}

/// <summary>One service the hosted server serves, and how to build its dispatcher once the container is built.</summary>
internal sealed class RpcGenServiceRegistration(Type serviceType, Func<IServiceProvider, IRpcDispatcher> createDispatcher)
{
    public Type ServiceType { get; } = serviceType;

    public IRpcDispatcher CreateDispatcher(IServiceProvider services) => createDispatcher(services);
}
