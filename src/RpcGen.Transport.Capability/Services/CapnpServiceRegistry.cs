namespace RpcGen.Capnp;

/// <summary>
/// Maps <c>[RpcService]</c> interfaces to their generated Cap'n Proto proxies and servers, so plain C#
/// interfaces travel as capabilities. Generated module initializers register every service of an
/// assembly that references the capability transport; nothing here uses reflection.
/// </summary>
public static class CapnpServiceRegistry
{
    /// <summary>Registers the generated binding of <typeparamref name="TService"/>. Called by generated code.</summary>
    public static void Register<TService>(ulong interfaceId, string schema, Func<Capability, TService> createProxy, Func<TService, ICapabilityServer> createServer)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(createProxy);
        ArgumentNullException.ThrowIfNull(createServer);
        Registration<TService>.Value ??= new(interfaceId, schema, createProxy, createServer, null);
    }

    /// <summary>Records why <typeparamref name="TService"/> has no Cap'n Proto binding (streams, say). Called by generated code.</summary>
    public static void RegisterUnsupported<TService>(ulong interfaceId, string reason)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(reason);
        Registration<TService>.Value ??= new(interfaceId, string.Empty, null, null, reason);
    }

    /// <summary>The Cap'n Proto interface id of <typeparamref name="TService"/>.</summary>
    public static ulong InterfaceId<TService>()
        where TService : class => Get<TService>(requireBinding: false).InterfaceId;

    /// <summary>The <c>.capnp</c> schema of <typeparamref name="TService"/>: its interface, the structs and enums of its signatures, and the interfaces it passes (by id).</summary>
    public static string Schema<TService>()
        where TService : class => Get<TService>(requireBinding: true).Schema;

    /// <summary>A <typeparamref name="TService"/> that calls <paramref name="capability"/>; the proxy takes the reference over.</summary>
    public static TService ToService<TService>(Capability capability)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(capability);
        return Get<TService>(requireBinding: true).CreateProxy!(capability);
    }

    /// <summary>
    /// A new reference the caller owns: the capability of a proxy, a promise for what a
    /// <see cref="IRpcPromise{TService}"/> resolves to, or a capability serving a local implementation.
    /// A local implementation is one capability however often it is given out (one export id per
    /// connection); if it is <see cref="IDisposable"/> it is disposed once, when the last reference
    /// to that capability is released.
    /// </summary>
    public static Capability ToCapability<TService>(TService service)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(service);
        switch (service)
        {
            case ICapnpProxy proxy:
                return proxy.Capability.Dup();
            case IRpcPromise<TService> promise:
                return Capability.FromPromise(ResolveAsync(promise.Resolution));
            default:
                // One capability per implementation object, however often it is given out.
                return new Capability(LocalServerTable.For<TService>().Export(service, service, static s => Get<TService>(requireBinding: true).CreateServer!(s)));
        }

        static async Task<Capability> ResolveAsync(Task<TService> resolution) => ToCapability(await resolution.ConfigureAwait(false));
    }

    /// <summary>Writes <paramref name="service"/> as a capability pointer (null as a null pointer). Called by generated code.</summary>
    public static void WriteService<TService>(PointerBuilder pointer, TService? service)
        where TService : class
    {
        if (service is null)
        {
            pointer.Clear();
            return;
        }

        using var capability = ToCapability(service);
        pointer.SetCapability(capability);
    }

    /// <summary>
    /// Reads a capability pointer as a <typeparamref name="TService"/> (null for a null pointer). Called by
    /// generated code. Read from a call's results, the caller owns the proxy. Read from the parameters of
    /// a call a local server handles, the proxy is lent to that call: it is released when the call
    /// returns unless the implementation keeps it with <see cref="CapnpCapability.Retain{TService}"/>.
    /// </summary>
    public static TService? ReadService<TService>(PointerReader pointer)
        where TService : class
    {
        if (pointer.GetCapability() is not { } capability)
        {
            return null;
        }

        pointer.Message?.LendingCall?.Lend(capability, typeof(TService));
        return ToService<TService>(capability);
    }

    /// <summary>
    /// The last resort for a proxy nobody disposed, called by its finalizer: releases the reference it
    /// still holds and logs a warning naming <typeparamref name="TService"/> (a leak report) on the
    /// connection's logger. Nothing happens for a reference already released, or one a call still lends
    /// (the call releases it when it returns). Called by generated code.
    /// </summary>
    public static void ReleaseFinalized<TService>(Capability capability)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(capability);
        if (capability.IsDisposed || capability.IsLent)
        {
            return;
        }

        try
        {
            if (capability.Connection is { } connection)
            {
                CapnpLog.ProxyLeaked(connection.Logger, typeof(TService).FullName ?? typeof(TService).Name, connection.RemoteAddress);
            }
        }
        catch (Exception)
        {
            // A logger that throws on the finalizer thread would end the process; the release matters more.
        }
        finally
        {
            capability.Dispose();
        }
    }

    /// <summary>
    /// Lets a call whose answer nobody wants finish in the background (Cap'n Proto has no one-way
    /// calls): the answer is awaited and dropped, a failure is observed.
    /// </summary>
    public static void Forget(CallPromise promise)
    {
        ArgumentNullException.ThrowIfNull(promise);
        _ = DrainAsync(promise);

        static async Task DrainAsync(CallPromise promise)
        {
            using (promise)
            {
                try
                {
                    using var response = await promise.Response.ConfigureAwait(false);
                }
                catch (RpcException)
                {
                    // A one-way method has no way to report this.
                }
            }
        }
    }

    private static Entry<TService> Get<TService>(bool requireBinding)
        where TService : class
    {
        if (Registration<TService>.Value is not { } entry)
        {
            // A contract assembly registers itself from its module initializer, which runs only once
            // code of that assembly is touched; naming the interface as a type argument does not count.
            System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(typeof(TService).Module.ModuleHandle);
            entry = Registration<TService>.Value ?? throw new InvalidOperationException(
                $"'{typeof(TService)}' has no Cap'n Proto binding. Mark it [RpcService] and build its project with the RpcGen generator and a reference to RpcGen.Transport.Capability.");
        }

        if (requireBinding && entry.Unsupported is { } reason)
        {
            throw new NotSupportedException($"'{typeof(TService)}' cannot travel over Cap'n Proto: {reason}.");
        }

        return entry;
    }

    private sealed record Entry<TService>(
        ulong InterfaceId,
        string Schema,
        Func<Capability, TService>? CreateProxy,
        Func<TService, ICapabilityServer>? CreateServer,
        string? Unsupported);

    private static class Registration<TService>
    {
        public static Entry<TService>? Value;
    }
}
