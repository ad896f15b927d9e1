using System.Collections.Generic;
using System.Linq;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Emitters;

/// <summary>Emits <c>{Base}Dispatcher</c>, the server side: reads a request envelope and calls the implementation.</summary>
internal static class DispatcherEmitter
{
    // internal (public in a client package) sealed class GreeterDispatcher : global::RpcGen.IRpcDispatcher
    // {
    //     private readonly global::Acme.IGreeter _implementation;
    //     public global::RpcGen.RpcServiceInfo Service => global::Acme.GreeterRpc.Service;
    //     public global::RpcGen.RpcMethodInfo? FindMethod(uint methodId) => methodId switch { 0x...u => global::Acme.GreeterRpc.SayHelloAsync, _ => null };
    //     public global::System.Threading.Tasks.ValueTask DispatchAsync(global::RpcGen.RpcServerCall call, in global::System.Buffers.ReadOnlySequence<byte> payload)
    //     {
    //         switch (call.Method.Id)
    //         {
    //             case 0x...u:
    //             {
    //                 var request = global::RpcGen.Serialization.RpcSerializer.Deserialize(payload, global::Acme.GreeterRpc.SayHelloAsync.RequestFormatter);
    //                 return call.CompleteAsync(this._implementation.SayHelloAsync(request.Request, call.CancellationToken), global::Acme.GreeterRpc.SayHelloAsync.ResponseFormatter);
    //             }
    //             default:
    //                 throw new global::RpcGen.RpcException(global::RpcGen.RpcStatusCode.Unimplemented, "...");
    //         }
    //     }
    // }
    public static string Emit(ServiceSpec service)
    {
        var context = new EmitContext(service);
        var writer = new SourceWriter();
        context.WriteHeader(writer);
        writer.WriteLine($"/// <summary>Serves <c>{service.ServiceName}</c>: reads each request and calls the implementation.</summary>");
        writer.WriteLine(EmitContext.GeneratedCodeAttribute);
        writer.Open($"{context.Visibility} sealed class {context.DispatcherClass} : {EmitContext.Runtime}.IRpcDispatcher");
        writer.WriteLine($"private readonly {service.InterfaceType} _implementation;");
        writer.WriteLine();
        writer.WriteLine("/// <summary>Creates a dispatcher that calls <paramref name=\"implementation\"/>.</summary>");
        writer.Open($"public {context.DispatcherClass}({service.InterfaceType} implementation)");
        writer.WriteLine("_implementation = implementation ?? throw new global::System.ArgumentNullException(nameof(implementation));");
        writer.Close();
        writer.WriteLine();
        writer.WriteLine("/// <inheritdoc />");
        writer.WriteLine($"public {EmitContext.Runtime}.RpcServiceInfo Service => {context.QualifiedRpcClass}.Service;");
        writer.WriteLine();
        EmitFindMethod(writer, context);
        writer.WriteLine();
        EmitDispatch(writer, context);
        writer.Close();
        return writer.ToString();
    }

    // public global::RpcGen.RpcMethodInfo? FindMethod(uint methodId) => methodId switch
    // {
    //     0x...u => global::Acme.GreeterRpc.SayHelloAsync,
    //     _ => null,
    // };
    private static void EmitFindMethod(SourceWriter writer, EmitContext context)
    {
        writer.WriteLine("/// <inheritdoc />");
        writer.WriteLine($"public {EmitContext.Runtime}.RpcMethodInfo? FindMethod(uint methodId) => methodId switch");
        writer.Open();
        foreach (var method in context.Service.Methods)
        {
            writer.WriteLine($"{EmitContext.Hex(method.Id)} => {context.QualifiedRpcClass}.{method.MemberName},");
        }

        writer.WriteLine("_ => null,");
        writer.Close(";");
    }

    // public global::System.Threading.Tasks.ValueTask DispatchAsync(global::RpcGen.RpcServerCall call, in global::System.Buffers.ReadOnlySequence<byte> payload)
    // {
    //     switch (call.Method.Id) { case <id>: { <read request>; return call.CompleteAsync(<call>, <response formatter>); } ... }
    // }
    private static void EmitDispatch(SourceWriter writer, EmitContext context)
    {
        writer.WriteLine("/// <inheritdoc />");
        writer.Open($"public global::System.Threading.Tasks.ValueTask DispatchAsync({EmitContext.Runtime}.RpcServerCall call, in global::System.Buffers.ReadOnlySequence<byte> payload)");
        writer.Open("switch (call.Method.Id)");
        foreach (var method in context.Service.Methods)
        {
            EmitCase(writer, context, method);
        }

        writer.WriteLine("default:");
        writer.WriteLine($"    throw new {EmitContext.Runtime}.RpcException({EmitContext.Runtime}.RpcStatusCode.Unimplemented, $\"Service '{context.Service.ServiceName}' has no method with id 0x{{call.Method.Id:x8}}.\");");
        writer.Close();
        writer.Close();
    }

    // case <id>: // Name
    // {
    //     var request = <read envelope>;
    //     var stream = call.GetRequestStream(<descriptor>.RequestItemFormatter);        (client and duplex streaming)
    //     return call.CompleteAsync(this._implementation.Name(request.A, stream, call.CancellationToken), <descriptor>.ResponseFormatter);
    //     return call.CompleteStreamAsync(this._implementation.Name(...), <descriptor>.ResponseFormatter);   (server and duplex streaming)
    // }
    private static void EmitCase(SourceWriter writer, EmitContext context, MethodSpec method)
    {
        var descriptor = $"{context.QualifiedRpcClass}.{method.MemberName}";
        writer.WriteLine($"case {EmitContext.Hex(method.Id)}: // {method.Name.TrimStart('@')}");
        writer.Open();

        // The payload is only valid during this call: read it before anything can await.
        var read = $"{EmitContext.Serialization}.RpcSerializer.Deserialize(payload, {descriptor}.RequestFormatter)";
        writer.WriteLine(method.RequestType is null ? $"_ = {read};" : $"var request = {read};");

        var arguments = new List<string>(method.Parameters.Select(p => "request." + p.FieldName));
        if (method.RequestStream is { } requestStream)
        {
            var items = $"call.GetRequestStream({descriptor}.RequestItemFormatter)";
            writer.WriteLine(requestStream.IsBytes
                ? $"var stream = global::RpcGen.Streams.RpcByteStreams.AsReceivedStream({items});"
                : $"var stream = {items};");
            arguments.Insert(requestStream.Index, "stream" + (requestStream.IsBytes || requestStream.ItemType == requestStream.ItemKey ? string.Empty : "!"));
        }

        if (method.CancellationTokenName is not null)
        {
            arguments.Add("call.CancellationToken");
        }

        var target = method.DeclaringInterface == context.Service.InterfaceType
            ? "this._implementation"
            : $"(({method.DeclaringInterface})this._implementation)";
        var invocation = $"{target}.{method.Name}({string.Join(", ", arguments)})";
        if (method.ResponseStream is { } responseStream)
        {
            // An annotated item type (IAsyncEnumerable<Item?>) would drive inference away from the
            // descriptor's formatter type; name the item type instead.
            var annotated = !responseStream.IsBytes && responseStream.ItemType != responseStream.ItemKey;
            var items = responseStream.IsBytes
                ? $"global::RpcGen.Streams.RpcByteStreams.ReadChunksAsync({invocation}{(responseStream.DeclaredType.EndsWith("?", System.StringComparison.Ordinal) ? "!" : string.Empty)})"
                : invocation + (annotated ? "!" : string.Empty);
            var typeArgument = annotated ? $"<{responseStream.ItemKey}>" : string.Empty;
            writer.WriteLine($"return call.CompleteStreamAsync{typeArgument}({items}, {descriptor}.ResponseFormatter);");
            writer.Close();
            return;
        }

        var bang = method.ResultType is { } result && result != method.ResultKey ? "!" : string.Empty;
        switch (method.ReturnShape)
        {
            case ReturnShape.Void:
                writer.WriteLine($"{invocation};");
                writer.WriteLine("return default;");
                break;
            case ReturnShape.ValueTask when method.IsOneWay:
                writer.WriteLine($"return call.CompleteOneWayAsync({invocation});");
                break;
            case ReturnShape.Task or ReturnShape.ValueTask:
                writer.WriteLine($"return call.CompleteAsync({invocation});");
                break;
            case ReturnShape.Promise:
                writer.WriteLine($"return call.CompleteAsync(new global::System.Threading.Tasks.ValueTask<{method.ResultKey}>({invocation}), {descriptor}.ResponseFormatter);");
                break;
            default:
                writer.WriteLine($"return call.CompleteAsync({invocation}{bang}, {descriptor}.ResponseFormatter);");
                break;
        }

        writer.Close();
    }
}
