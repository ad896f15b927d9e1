using System.Linq;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Emitters;

/// <summary>Emits <c>{Base}Proxy</c>, the client side: each method packs its parameters and calls the channel.</summary>
internal static class ProxyEmitter
{
    // internal (public in a client package) sealed class GreeterProxy : global::Acme.IGreeter, global::RpcGen.IRpcProxy, global::System.IAsyncDisposable
    // {
    //     private readonly global::RpcGen.IRpcChannel _channel;
    //     public GreeterProxy(global::RpcGen.IRpcChannel channel) { ... }
    //
    //     global::RpcGen.IRpcChannel global::RpcGen.IRpcProxy.Channel => _channel;
    //     global::System.Threading.Tasks.ValueTask global::System.IAsyncDisposable.DisposeAsync() => global::RpcGen.RpcReference.ReleaseAsync(this);
    //
    //     global::System.Threading.Tasks.Task<global::Acme.HelloReply> global::Acme.IGreeter.SayHelloAsync(global::Acme.HelloRequest request, global::System.Threading.CancellationToken cancellationToken)
    //     {
    //         return this._channel.InvokeAsync(global::Acme.GreeterRpc.SayHelloAsync, new global::Acme.GreeterRpc.SayHelloAsyncRequest(request), cancellationToken).AsTask();
    //     }
    // }
    public static string Emit(ServiceSpec service)
    {
        var context = new EmitContext(service);
        var writer = new SourceWriter();
        context.WriteHeader(writer);
        writer.WriteLine($"/// <summary>Calls <c>{service.ServiceName}</c> through an <c>IRpcChannel</c>.</summary>");
        writer.WriteLine(EmitContext.GeneratedCodeAttribute);
        writer.Open($"{context.Visibility} sealed class {context.ProxyClass} : {service.InterfaceType}, {EmitContext.Runtime}.IRpcProxy, global::System.IAsyncDisposable");
        writer.WriteLine($"private readonly {EmitContext.Runtime}.IRpcChannel _channel;");
        writer.WriteLine();
        writer.WriteLine("/// <summary>Creates a proxy that calls through <paramref name=\"channel\"/>.</summary>");
        writer.Open($"public {context.ProxyClass}({EmitContext.Runtime}.IRpcChannel channel)");
        writer.WriteLine("_channel = channel ?? throw new global::System.ArgumentNullException(nameof(channel));");
        writer.Close();
        EmitProxyMembers(writer);
        foreach (var method in service.Methods)
        {
            writer.WriteLine();
            EmitMethod(writer, context, method);
        }

        writer.Close();
        return writer.ToString();
    }

    // Both explicit, so they cannot clash with a contract method of the same name; a contract that
    // inherits IAsyncDisposable gets this DisposeAsync too (the parser leaves it out of the remote methods).
    private static void EmitProxyMembers(SourceWriter writer)
    {
        writer.WriteLine();
        writer.WriteLine($"{EmitContext.Runtime}.IRpcChannel {EmitContext.Runtime}.IRpcProxy.Channel => _channel;");
        writer.WriteLine();
        writer.WriteLine("// Releases a service reference the peer passed to this side; a proxy from GetService has none to release.");
        writer.WriteLine($"global::System.Threading.Tasks.ValueTask global::System.IAsyncDisposable.DisposeAsync() => {EmitContext.Runtime}.RpcReference.ReleaseAsync(this);");
    }

    // Explicit implementations: no default values to repeat (they would only warn), and inherited
    // methods with the same name from two bases cannot clash.
    private static void EmitMethod(SourceWriter writer, EmitContext context, MethodSpec method)
    {
        writer.Open($"{method.ReturnType} {method.DeclaringInterface}.{method.Name}({string.Join(", ", DeclaredParameters(method))})");
        if (method.IsStreaming)
        {
            EmitStreamingBody(writer, context, method);
        }
        else
        {
            EmitBody(writer, context, method);
        }

        writer.Close();
    }

    /// <summary>The parameters as declared (type and name), the request stream and the cancellation token in their places.</summary>
    public static System.Collections.Generic.List<string> DeclaredParameters(MethodSpec method, string tokenPrefix = "")
    {
        var parameters = method.Parameters.Select(p => $"{p.Type} {p.Name}").ToList();
        if (method.RequestStream is { } stream)
        {
            parameters.Insert(stream.Index, $"{stream.DeclaredType} {stream.Name}");
        }

        if (method.CancellationTokenName is { } tokenName)
        {
            parameters.Add($"{tokenPrefix}global::System.Threading.CancellationToken {tokenName}");
        }

        return parameters;
    }

    /// <summary>The argument list that passes every declared parameter on, in declaration order.</summary>
    public static string ForwardedArguments(MethodSpec method)
    {
        var arguments = method.Parameters.Select(p => p.Name).ToList();
        if (method.RequestStream is { } stream)
        {
            arguments.Insert(stream.Index, stream.Name);
        }

        if (method.CancellationTokenName is { } tokenName)
        {
            arguments.Add(tokenName);
        }

        return string.Join(", ", arguments);
    }

    private static string Request(EmitContext context, MethodSpec method) =>
        method.RequestType is { } envelope
            ? $"new {context.QualifiedRpcClass}.{envelope}({string.Join(", ", method.Parameters.Select(p => p.Name))})"
            : $"{EmitContext.Runtime}.RpcVoid.Value";

    // return this._channel.InvokeAsync(<descriptor>, new <Rpc>.NameRequest(a, b), cancellationToken).AsTask();   (Task<T>)
    // return global::RpcGen.RpcTasks.AsTask(this._channel.InvokeAsync(...));                                     (Task)
    // global::RpcGen.RpcOneWay.Forget(this._channel.SendAsync(<descriptor>, <request>));                           ([OneWay] void)
    // return global::RpcGen.RpcPromise.Create<global::Acme.IValue>(this._channel.InvokeAsync(...));                 (IValue, a promise)
    private static void EmitBody(SourceWriter writer, EmitContext context, MethodSpec method)
    {
        var descriptor = $"{context.QualifiedRpcClass}.{method.MemberName}";
        var request = Request(context, method);
        var token = method.CancellationTokenName ?? "default";
        var invoke = $"this._channel.InvokeAsync({descriptor}, {request}, {token})";
        var send = $"this._channel.SendAsync({descriptor}, {request})";
        switch (method.ReturnShape)
        {
            case ReturnShape.Void:
                writer.WriteLine($"{EmitContext.Runtime}.RpcOneWay.Forget({send});");
                break;
            case ReturnShape.ValueTask when method.IsOneWay:
                writer.WriteLine($"return {send};");
                break;
            case ReturnShape.ValueTask:
                // The channel completes the ValueTask from its pending call: no Task to adapt a result nobody reads.
                writer.WriteLine($"return this._channel.InvokeVoidAsync({descriptor}, {request}, {token});");
                break;
            case ReturnShape.Promise:
                // This transport cannot pipeline: the promise holds the calls made on it until the reference arrives.
                writer.WriteLine($"return {EmitContext.Runtime}.RpcPromise.Create<{method.ResultKey}>({invoke});");
                break;
            default:
                writer.WriteLine($"return {AdaptResult(method, invoke)};");
                break;
        }
    }

    /// <summary>Adapts the channel's <c>ValueTask&lt;TResponse&gt;</c> to the declared return type.</summary>
    private static string AdaptResult(MethodSpec method, string call)
    {
        // The channel's result is typed without nullable annotations; a result declared as
        // Task<Reply?> needs the suppression.
        var bang = method.ResultType is { } result && result != method.ResultKey ? "!" : string.Empty;
        return method.ReturnShape switch
        {
            ReturnShape.Task => $"{EmitContext.Runtime}.RpcTasks.AsTask({call})",
            ReturnShape.ValueTask => $"{EmitContext.Runtime}.RpcTasks.AsValueTask({call})",
            ReturnShape.TaskOfT => $"{call}.AsTask(){bang}",
            _ => $"{call}{bang}",
        };
    }

    // Server streaming:  return this._channel.InvokeServerStreaming(<descriptor>, <request>, cancellationToken);
    // Client streaming:  return this._channel.InvokeClientStreamingAsync(<descriptor>, <request>, items, cancellationToken).AsTask();
    // Duplex streaming:  return this._channel.InvokeDuplexStreaming(<descriptor>, <request>, items, cancellationToken);
    // A Stream parameter travels as RpcByteStreams.ReadChunksAsync(stream); a Task<Stream> result is
    // RpcByteStreams.AsReceivedStream over the response chunks.
    private static void EmitStreamingBody(SourceWriter writer, EmitContext context, MethodSpec method)
    {
        var descriptor = $"{context.QualifiedRpcClass}.{method.MemberName}";
        var request = Request(context, method);
        var token = method.CancellationTokenName ?? "default";
        string? items = null;
        if (method.RequestStream is { } requestStream)
        {
            items = requestStream.IsBytes
                ? $"global::RpcGen.Streams.RpcByteStreams.ReadChunksAsync({requestStream.Name}, {token})"
                : requestStream.Name + Bang(requestStream);
        }

        // Type inference would take the item type from an annotated stream (IAsyncEnumerable<Item?>)
        // and then clash with the descriptor's; name the type arguments instead.
        var typeArguments = method.RequestStream is { IsBytes: false } annotated && Bang(annotated).Length > 0
            ? $"<{(method.RequestType is { } envelope ? context.QualifiedRpcClass + "." + envelope : EmitContext.Runtime + ".RpcVoid")}, {annotated.ItemKey}, {method.ResponseStream?.ItemKey ?? method.ResultKey ?? EmitContext.Runtime + ".RpcVoid"}>"
            : string.Empty;
        var call = method.Kind switch
        {
            CallKind.ServerStreaming => $"this._channel.InvokeServerStreaming({descriptor}, {request}, {token})",
            CallKind.ClientStreaming => $"this._channel.InvokeClientStreamingAsync{typeArguments}({descriptor}, {request}, {items}, {token})",
            _ => $"this._channel.InvokeDuplexStreaming{typeArguments}({descriptor}, {request}, {items}, {token})",
        };

        if (method.ResponseStream is not { } responseStream)
        {
            writer.WriteLine($"return {AdaptResult(method, call)};");
            return;
        }

        if (!responseStream.IsBytes)
        {
            writer.WriteLine($"return {call}{Bang(responseStream)};");
            return;
        }

        var stream = $"global::RpcGen.Streams.RpcByteStreams.AsReceivedStream({call})";
        writer.WriteLine(responseStream.Wrapper == StreamWrapper.Task
            ? $"return global::System.Threading.Tasks.Task.FromResult<{responseStream.DeclaredType}>({stream});"
            : $"return new global::System.Threading.Tasks.ValueTask<{responseStream.DeclaredType}>({stream});");
    }

    /// <summary><c>!</c> when the declared item type carries nullable annotations the descriptor's does not.</summary>
    private static string Bang(StreamSpec stream) => stream.ItemType != stream.ItemKey ? "!" : string.Empty;
}
