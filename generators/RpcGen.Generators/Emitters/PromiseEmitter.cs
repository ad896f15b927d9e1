using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Emitters;

/// <summary>
/// Emits <c>{Base}Promise</c>: the service before it exists. A method declared as returning the
/// interface directly hands one back at once; each call on it waits for the resolution and then goes
/// to the resolved service.
/// </summary>
internal static class PromiseEmitter
{
    // internal (public in a client package) sealed class ValuePromise : global::Acme.IValue, global::RpcGen.IRpcPromise<global::Acme.IValue>, global::System.IAsyncDisposable
    // {
    //     private readonly global::System.Threading.Tasks.Task<global::Acme.IValue> _resolution;
    //     public ValuePromise(global::System.Threading.Tasks.Task<global::Acme.IValue> resolution) { ... }
    //
    //     async global::System.Threading.Tasks.Task<double> global::Acme.IValue.ReadAsync(global::System.Threading.CancellationToken cancellationToken)
    //     {
    //         var resolved = await this._resolution.ConfigureAwait(false);
    //         return await resolved.ReadAsync(cancellationToken).ConfigureAwait(false);
    //     }
    // }
    public static string Emit(ServiceSpec service)
    {
        var context = new EmitContext(service);
        var writer = new SourceWriter();
        var resolution = $"global::System.Threading.Tasks.Task<{service.InterfaceType}>";
        context.WriteHeader(writer);
        writer.WriteLine($"/// <summary>A <c>{service.ServiceName}</c> that is still on its way: calls wait for it, then go to it in order.</summary>");
        writer.WriteLine(EmitContext.GeneratedCodeAttribute);
        writer.Open($"{context.Visibility} sealed class {context.PromiseClass} : {service.InterfaceType}, {EmitContext.Runtime}.IRpcPromise<{service.InterfaceType}>, global::System.IAsyncDisposable");
        writer.WriteLine($"private readonly {resolution} _resolution;");
        writer.WriteLine();
        writer.WriteLine("/// <summary>Creates a promise for what <paramref name=\"resolution\"/> produces.</summary>");
        writer.Open($"public {context.PromiseClass}({resolution} resolution)");
        writer.WriteLine("_resolution = resolution ?? throw new global::System.ArgumentNullException(nameof(resolution));");
        writer.Close();
        writer.WriteLine();
        writer.WriteLine("/// <inheritdoc />");
        writer.WriteLine($"public {resolution} Resolution => _resolution;");
        writer.WriteLine();
        writer.WriteLine("// Releases the resolved reference; a promise that failed holds none.");
        writer.Open("async global::System.Threading.Tasks.ValueTask global::System.IAsyncDisposable.DisposeAsync()");
        writer.Open("try");
        writer.Open("if (await this._resolution.ConfigureAwait(false) is global::System.IAsyncDisposable target)");
        writer.WriteLine("await target.DisposeAsync().ConfigureAwait(false);");
        writer.Close();
        writer.Close();
        writer.Open($"catch ({EmitContext.Runtime}.RpcException)");
        writer.Close();
        writer.Close();
        foreach (var method in service.Methods)
        {
            writer.WriteLine();
            EmitMethod(writer, service, method);
        }

        writer.Close();
        return writer.ToString();
    }

    private static void EmitMethod(SourceWriter writer, ServiceSpec service, MethodSpec method)
    {
        var target = method.DeclaringInterface == service.InterfaceType ? "resolved" : $"(({method.DeclaringInterface})resolved)";
        var call = $"{target}.{method.Name}({ProxyEmitter.ForwardedArguments(method)})";
        var signature = $"{method.DeclaringInterface}.{method.Name}";
        if (method.ResponseStream is { Wrapper: StreamWrapper.None })
        {
            // An async iterator: the cancellation token of the enumeration reaches the forwarded call.
            var parameters = ProxyEmitter.DeclaredParameters(method, "[global::System.Runtime.CompilerServices.EnumeratorCancellation] ");
            writer.Open($"async {method.ReturnType} {signature}({string.Join(", ", parameters)})");
            writer.WriteLine("var resolved = await this._resolution.ConfigureAwait(false);");
            writer.Open($"await foreach (var item in global::System.Threading.Tasks.TaskAsyncEnumerableExtensions.ConfigureAwait({call}, false))");
            writer.WriteLine("yield return item;");
            writer.Close();
            writer.Close();
            return;
        }

        var declared = string.Join(", ", ProxyEmitter.DeclaredParameters(method));
        switch (method.ReturnShape)
        {
            case ReturnShape.Void:
                writer.Open($"{method.ReturnType} {signature}({declared})");
                writer.WriteLine($"{EmitContext.Runtime}.RpcPromise.Forget(this._resolution, resolved => {call});");
                writer.Close();
                return;
            case ReturnShape.Promise:
                writer.Open($"{method.ReturnType} {signature}({declared})");
                writer.WriteLine($"return {EmitContext.Runtime}.RpcPromise.Then<{service.InterfaceType}, {method.ResultKey}>(this._resolution, resolved => {call});");
                writer.Close();
                return;
            case ReturnShape.Task or ReturnShape.ValueTask:
                writer.Open($"async {method.ReturnType} {signature}({declared})");
                writer.WriteLine("var resolved = await this._resolution.ConfigureAwait(false);");
                writer.WriteLine($"await {call}.ConfigureAwait(false);");
                writer.Close();
                return;
            default:
                writer.Open($"async {method.ReturnType} {signature}({declared})");
                writer.WriteLine("var resolved = await this._resolution.ConfigureAwait(false);");
                writer.WriteLine($"return await {call}.ConfigureAwait(false);");
                writer.Close();
                return;
        }
    }
}
