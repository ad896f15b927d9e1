using System.Linq;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Emitters;

/// <summary>Emits <c>{Base}Proxy</c>, the client side: each method packs its parameters and calls the channel.</summary>
internal static class ProxyEmitter
{
    // internal sealed class GreeterProxy : global::Acme.IGreeter
    // {
    //     private readonly global::RpcGen.IRpcChannel _channel;
    //     public GreeterProxy(global::RpcGen.IRpcChannel channel) { ... }
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
        writer.Open($"internal sealed class {context.ProxyClass} : {service.InterfaceType}");
        writer.WriteLine($"private readonly {EmitContext.Runtime}.IRpcChannel _channel;");
        writer.WriteLine();
        writer.WriteLine("/// <summary>Creates a proxy that calls through <paramref name=\"channel\"/>.</summary>");
        writer.Open($"public {context.ProxyClass}({EmitContext.Runtime}.IRpcChannel channel)");
        writer.WriteLine("_channel = channel ?? throw new global::System.ArgumentNullException(nameof(channel));");
        writer.Close();
        foreach (var method in service.Methods)
        {
            writer.WriteLine();
            EmitMethod(writer, context, method);
        }

        writer.Close();
        return writer.ToString();
    }

    // Explicit implementations: no default values to repeat (they would only warn), and inherited
    // methods with the same name from two bases cannot clash.
    private static void EmitMethod(SourceWriter writer, EmitContext context, MethodSpec method)
    {
        var parameters = method.Parameters.Select(p => $"{p.Type} {p.Name}").ToList();
        if (method.CancellationTokenName is { } tokenName)
        {
            parameters.Add($"global::System.Threading.CancellationToken {tokenName}");
        }

        writer.Open($"{method.ReturnType} {method.DeclaringInterface}.{method.Name}({string.Join(", ", parameters)})");
        var descriptor = $"{context.QualifiedRpcClass}.{method.MemberName}";
        var request = method.RequestType is { } envelope
            ? $"new {context.QualifiedRpcClass}.{envelope}({string.Join(", ", method.Parameters.Select(p => p.Name))})"
            : $"{EmitContext.Runtime}.RpcVoid.Value";
        var token = method.CancellationTokenName ?? "default";
        var invoke = $"this._channel.InvokeAsync({descriptor}, {request}, {token})";
        var send = $"this._channel.SendAsync({descriptor}, {request})";

        // The channel's result is typed without nullable annotations; a result declared as
        // Task<Reply?> needs the suppression.
        var bang = method.ResultType is { } result && result != method.ResultKey ? "!" : string.Empty;
        switch (method.ReturnShape)
        {
            case ReturnShape.Void:
                writer.WriteLine($"{EmitContext.Runtime}.RpcOneWay.Forget({send});");
                break;
            case ReturnShape.ValueTask when method.IsOneWay:
                writer.WriteLine($"return {send};");
                break;
            case ReturnShape.Task:
                writer.WriteLine($"return {EmitContext.Runtime}.RpcTasks.AsTask({invoke});");
                break;
            case ReturnShape.ValueTask:
                writer.WriteLine($"return {EmitContext.Runtime}.RpcTasks.AsValueTask({invoke});");
                break;
            case ReturnShape.TaskOfT:
                writer.WriteLine($"return {invoke}.AsTask(){bang};");
                break;
            case ReturnShape.ValueTaskOfT:
                writer.WriteLine($"return {invoke}{bang};");
                break;
        }

        writer.Close();
    }
}
