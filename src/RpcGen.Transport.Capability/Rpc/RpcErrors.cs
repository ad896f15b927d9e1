namespace RpcGen.Capnp;

/// <summary>Maps between .NET exceptions and the <c>Exception</c> struct of rpc.capnp.</summary>
internal static class RpcErrors
{
    // rpc.capnp's Exception.Type has no "permission denied"; such a failure travels as 'failed' with
    // this prefix on its reason, which a peer of this implementation reads back as PermissionDenied
    // (and any other peer shows as text).
    private const string PermissionDeniedPrefix = "permission denied: ";

    public static RpcException Disconnected(string reason) => new(RpcStatusCode.Disconnected, reason);

    public static RpcException Cancelled() => new(RpcStatusCode.Cancelled, "The call was cancelled.");

    public static RpcException NullCapability() => new(RpcStatusCode.Failed, "Called a null capability.");

    /// <summary>What a failed call looks like to its caller: an <see cref="RpcException"/> whatever was thrown.</summary>
    public static RpcException ToRpcException(Exception error) => error switch
    {
        RpcException rpc => rpc,
        OperationCanceledException => Cancelled(),
        AggregateException { InnerExceptions.Count: 1 } aggregate => ToRpcException(aggregate.InnerExceptions[0]),
        _ => new RpcException(RpcStatusCode.Failed, error.Message, error),
    };

    public static void Write(StructBuilder target, Exception error)
    {
        var rpc = ToRpcException(error);
        target.WriteText(RpcSchema.Exception.Reason, rpc.StatusCode == RpcStatusCode.PermissionDenied ? PermissionDeniedPrefix + rpc.Message : rpc.Message);
        target.WriteUInt16(RpcSchema.Exception.Type, rpc.StatusCode switch
        {
            RpcStatusCode.Overloaded => RpcSchema.Exception.Overloaded,
            RpcStatusCode.Disconnected => RpcSchema.Exception.Disconnected,
            RpcStatusCode.Unimplemented => RpcSchema.Exception.Unimplemented,
            _ => RpcSchema.Exception.Failed,
        });
    }

    public static RpcException Read(StructReader exception, string? prefix = null)
    {
        var reason = exception.ReadText(RpcSchema.Exception.Reason) ?? string.Empty;
        var status = exception.ReadUInt16(RpcSchema.Exception.Type) switch
        {
            RpcSchema.Exception.Overloaded => RpcStatusCode.Overloaded,
            RpcSchema.Exception.Disconnected => RpcStatusCode.Disconnected,
            RpcSchema.Exception.Unimplemented => RpcStatusCode.Unimplemented,
            _ => RpcStatusCode.Failed,
        };
        if (status == RpcStatusCode.Failed && reason.StartsWith(PermissionDeniedPrefix, StringComparison.Ordinal))
        {
            return new RpcException(RpcStatusCode.PermissionDenied, prefix + reason[PermissionDeniedPrefix.Length..]);
        }

        return new RpcException(status, prefix + reason);
    }
}
