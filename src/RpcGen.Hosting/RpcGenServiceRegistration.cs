namespace RpcGen.Hosting;

/// <summary>One service the hosted server serves, and how to build its dispatcher once the container is built.</summary>
internal sealed class RpcGenServiceRegistration(Type serviceType, Func<IServiceProvider, IRpcDispatcher> createDispatcher)
{
    public Type ServiceType { get; } = serviceType;

    public IRpcDispatcher CreateDispatcher(IServiceProvider services) => createDispatcher(services);
}
