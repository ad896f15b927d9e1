namespace RpcGen;

/// <summary>
/// Maps a contract interface to its generated proxy and dispatcher. Generated module initializers
/// register every <c>[RpcService]</c> interface of an assembly when it loads, so lookups need no
/// reflection.
/// </summary>
public static class RpcServiceRegistry
{
    /// <summary>Registers the generated pieces of <typeparamref name="TService"/>. Called by generated code.</summary>
    public static void Register<TService>(
        RpcServiceInfo service,
        Func<IRpcChannel, TService> createProxy,
        Func<TService, IRpcDispatcher> createDispatcher,
        Func<Task<TService>, TService>? createPromise = null)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(createProxy);
        ArgumentNullException.ThrowIfNull(createDispatcher);
        Registration<TService>.Value ??= new(service, createProxy, createDispatcher, createPromise);
    }

    /// <summary>The service description of <typeparamref name="TService"/>.</summary>
    public static RpcServiceInfo GetService<TService>()
        where TService : class => Get<TService>().Service;

    /// <summary>Creates a client proxy for <typeparamref name="TService"/> that calls through <paramref name="channel"/>.</summary>
    public static TService CreateProxy<TService>(IRpcChannel channel)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(channel);
        return Get<TService>().CreateProxy(channel);
    }

    /// <summary>Creates a dispatcher that serves <paramref name="implementation"/>.</summary>
    public static IRpcDispatcher CreateDispatcher<TService>(TService implementation)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(implementation);
        return Get<TService>().CreateDispatcher(implementation);
    }

    /// <summary>A <typeparamref name="TService"/> that forwards its calls to what <paramref name="resolution"/> produces; see <see cref="RpcPromise"/>.</summary>
    public static TService CreatePromise<TService>(Task<TService> resolution)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(resolution);
        var createPromise = Get<TService>().CreatePromise ?? throw new InvalidOperationException(
            $"'{typeof(TService)}' was registered without a promise factory; rebuild its project with the current RpcGen generator.");
        return createPromise(resolution);
    }

    private static Entry<TService> Get<TService>()
        where TService : class
    {
        if (Registration<TService>.Value is { } entry)
        {
            return entry;
        }

        // A contract assembly registers itself from its module initializer, which the runtime runs
        // only once code of that assembly is touched; naming the interface as a type argument
        // does not count, so run it here.
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(typeof(TService).Module.ModuleHandle);
        return Registration<TService>.Value ?? throw new InvalidOperationException(
            $"'{typeof(TService)}' is not a registered RpcGen service. Mark it [RpcService] and make sure the RpcGen generator runs for the project that declares it.");
    }

    private sealed record Entry<TService>(
        RpcServiceInfo Service,
        Func<IRpcChannel, TService> CreateProxy,
        Func<TService, IRpcDispatcher> CreateDispatcher,
        Func<Task<TService>, TService>? CreatePromise);

    private static class Registration<TService>
    {
        public static Entry<TService>? Value;
    }
}
