namespace RpcGen.Serialization;

/// <summary>
/// The process-wide formatter for <typeparamref name="T"/>. Generated module initializers set it for
/// each DTO; the runtime sets it for primitives. Lookup is a static field read: no reflection, no
/// dictionary.
/// </summary>
/// <typeparam name="T">The serialized type.</typeparam>
public static class RpcFormatter<T>
{
    private static IRpcFormatter<T>? s_instance = BuiltinFormatters.Get<T>();

    /// <summary>The registered formatter; throws when none is registered.</summary>
    public static IRpcFormatter<T> Instance =>
        s_instance ?? throw new InvalidOperationException(
            $"No RpcGen formatter is registered for '{typeof(T)}'. Types reachable from an [RpcService] contract get one from the source generator; is the generator referenced by the contract's project?");

    /// <summary>Whether a formatter is registered.</summary>
    public static bool IsRegistered => s_instance is not null;

    /// <summary>Registers <paramref name="formatter"/> unless one is already registered. Called by generated code.</summary>
    public static void TryRegister(IRpcFormatter<T> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Interlocked.CompareExchange(ref s_instance, formatter, null);
    }
}
