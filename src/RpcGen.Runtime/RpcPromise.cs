namespace RpcGen;

/// <summary>
/// A service reference that is usable before it exists: a method declared as returning an
/// <c>[RpcService]</c> interface directly (not through a task) hands back a promise at once. Calls on
/// the promise wait for it to resolve and then go to the resolved service, as calls made at the same
/// time (so without an order between them); if it fails, they fail with its error. Transports that can (the capability transport)
/// send those calls ahead without waiting (promise pipelining) and do not use this class.
/// </summary>
public static class RpcPromise
{
    /// <summary>A <typeparamref name="TService"/> that forwards every call to what <paramref name="resolution"/> produces.</summary>
    public static TService Create<TService>(Task<TService> resolution)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(resolution);
        return RpcServiceRegistry.CreatePromise(resolution);
    }

    /// <inheritdoc cref="Create{TService}(Task{TService})"/>
    public static TService Create<TService>(ValueTask<TService> resolution)
        where TService : class => Create(resolution.AsTask());

    /// <summary>
    /// A promise for the service <paramref name="select"/> returns once <paramref name="resolution"/> has
    /// resolved: used by generated promises to chain a promise-returning method.
    /// </summary>
    public static TResult Then<TService, TResult>(Task<TService> resolution, Func<TService, TResult> select)
        where TService : class
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(resolution);
        ArgumentNullException.ThrowIfNull(select);
        return Create(SelectAsync(resolution, select));

        static async Task<TResult> SelectAsync(Task<TService> resolution, Func<TService, TResult> select) =>
            select(await resolution.ConfigureAwait(false));
    }

    /// <summary>Makes a one-way call on the resolved service once it exists; a failure to resolve is dropped like any one-way failure.</summary>
    public static void Forget<TService>(Task<TService> resolution, Action<TService> send)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(resolution);
        ArgumentNullException.ThrowIfNull(send);
        _ = SendAsync(resolution, send);

        static async Task SendAsync(Task<TService> resolution, Action<TService> send)
        {
            try
            {
                send(await resolution.ConfigureAwait(false));
            }
            catch (RpcException)
            {
                // A void one-way method has no way to report this.
            }
        }
    }

    /// <summary>
    /// The service a promise resolved to (waiting for it), or <paramref name="service"/> itself when it
    /// is not a promise.
    /// </summary>
    public static Task<TService> ResolveAsync<TService>(TService service)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(service);
        return service is IRpcPromise<TService> promise ? promise.Resolution : Task.FromResult(service);
    }
}

/// <summary>Implemented by generated promises: the task that produces the service the promise stands for.</summary>
/// <typeparam name="TService">The service interface.</typeparam>
public interface IRpcPromise<TService>
    where TService : class
{
    /// <summary>Completes with the resolved service, or fails with the error of the call that was to produce it.</summary>
    Task<TService> Resolution { get; }
}
