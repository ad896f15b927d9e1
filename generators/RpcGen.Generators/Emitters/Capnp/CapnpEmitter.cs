using System.Collections.Generic;
using System.Linq;
using RpcGen.Capnp;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Emitters.Capnp;

/// <summary>
/// Emits <c>{Base}Capnp</c>, the service on the capability transport (Cap'n Proto): the interface id,
/// the schema text, a proxy over a <c>Capability</c> whose service-returning methods pipeline, a server
/// that dispatches calls to an implementation, struct codecs for every DTO with offsets computed like
/// the schema compiler's, and a module initializer that registers them. Emitted only when the
/// compilation references the capability transport.
/// </summary>
internal static class CapnpEmitter
{
    private const string Capnp = "global::RpcGen.Capnp";
    private const string Registry = Capnp + ".CapnpServiceRegistry";
    private const string Tasks = "global::System.Threading.Tasks";

    // internal (public in a client package) static class CalculatorCapnp
    // {
    //     public const ulong InterfaceId = 0x97983392DF35CC36UL;
    //     public const string Schema = "...";
    //
    //     internal (public in a client package) sealed class Proxy : global::Acme.ICalculator, global::RpcGen.Capnp.ICapnpProxy { ... }
    //     internal (public in a client package) sealed class Server : global::RpcGen.Capnp.ICapabilityServer, global::System.IDisposable { ... }
    //     internal static class Codec { WriteExpression / ReadExpression ... }
    //     internal static class Registration { [ModuleInitializer] Register() }
    // }
    public static string Emit(ServiceSpec service, out string? rejection, out IReadOnlyList<string> unmapped)
    {
        var context = new EmitContext(service);
        var model = new CapnpModel(context);
        rejection = model.Rejection;
        unmapped = model.Rejection is null ? model.Unmapped.Select(m => m.UnimplementedMessage(service.ServiceName)).ToList() : [];
        var writer = new SourceWriter();
        context.WriteHeader(writer, "CA2255");
        var className = service.BaseName + "Capnp";
        writer.WriteLine($"/// <summary><c>{service.ServiceName}</c> on the capability transport: Cap'n Proto interface <c>{model.InterfaceName}</c>.</summary>");
        writer.WriteLine(EmitContext.GeneratedCodeAttribute);
        writer.Open($"{context.Visibility} static class {className}");
        writer.WriteLine("/// <summary>The Cap'n Proto interface id.</summary>");
        writer.WriteLine($"public const ulong InterfaceId = {EmitContext.Hex(service.CapnpId)};");
        if (model.Rejection is { } reason)
        {
            writer.WriteLine();
            writer.WriteLine("/// <summary>Why the service has no Cap'n Proto binding.</summary>");
            writer.WriteLine($"public const string Unsupported = {EmitContext.Literal(reason)};");
            writer.WriteLine();
            EmitRegistration(writer, service, null);
            writer.Close();
            return writer.ToString();
        }

        writer.WriteLine();
        writer.WriteLine("/// <summary>The contract as a <c>.capnp</c> schema, for other languages' Cap'n Proto tools.</summary>");
        writer.WriteLine("public const string Schema = @\"");
        writer.WriteRaw(model.Schema.Replace("\"", "\"\""));
        writer.WriteLine("\";");
        foreach (var (_, sink) in model.Sinks)
        {
            writer.WriteLine();
            writer.WriteLine($"/// <summary>The interface id of <c>{sink.Name}</c>, the sink a stream of this service travels through.</summary>");
            writer.WriteLine($"public const ulong {sink.Name}InterfaceId = {EmitContext.Hex(sink.Id)};");
        }

        writer.WriteLine();
        EmitProxy(writer, context, model);
        writer.WriteLine();
        EmitServer(writer, context, model);
        writer.WriteLine();
        EmitCodec(writer, model);
        writer.WriteLine();
        EmitRegistration(writer, service, model);
        writer.Close();
        return writer.ToString();
    }

    private static string Unimplemented(CapnpMethod method, string service) =>
        $"new {EmitContext.Runtime}.RpcException({EmitContext.Runtime}.RpcStatusCode.Unimplemented, {EmitContext.Literal(method.UnimplementedMessage(service))})";

    private static void EmitRegistration(SourceWriter writer, ServiceSpec service, CapnpModel? model)
    {
        writer.WriteLine("/// <summary>Registers the binding when the assembly loads.</summary>");
        writer.Open("internal static class Registration");
        writer.WriteLine("/// <summary>Registers the proxy and server factories, or why there are none.</summary>");
        writer.WriteLine("[global::System.Runtime.CompilerServices.ModuleInitializer]");
        writer.Open("internal static void Register()");
        if (model is null)
        {
            writer.WriteLine($"{Registry}.RegisterUnsupported<{service.InterfaceType}>(InterfaceId, Unsupported);");
        }
        else
        {
            writer.WriteLine($"{Registry}.Register<{service.InterfaceType}>(InterfaceId, Schema, static capability => new Proxy(capability), static implementation => new Server(implementation));");
        }

        writer.Close();
        writer.Close();
    }

    // ------------------------------------------------------------------ proxy

    private static void EmitProxy(SourceWriter writer, EmitContext context, CapnpModel model)
    {
        var service = context.Service;
        writer.WriteLine("/// <summary>Calls the service through a capability; methods that return a service return a pipelined promise at once.</summary>");
        writer.Open($"{context.Visibility} sealed class Proxy : {service.InterfaceType}, {Capnp}.ICapnpProxy, global::System.IAsyncDisposable");
        writer.WriteLine($"private readonly {Capnp}.Capability _capability;");
        writer.WriteLine();
        writer.WriteLine("/// <summary>Wraps <paramref name=\"capability\"/>, which the proxy takes over.</summary>");
        writer.Open($"public Proxy({Capnp}.Capability capability)");
        writer.WriteLine("_capability = capability ?? throw new global::System.ArgumentNullException(nameof(capability));");
        writer.Close();
        writer.WriteLine();
        writer.WriteLine("/// <inheritdoc />");
        writer.WriteLine($"public {Capnp}.Capability Capability => _capability;");
        writer.WriteLine();
        writer.WriteLine("/// <summary>Releases the capability.</summary>");
        writer.Open("public void Dispose()");
        writer.WriteLine("_capability.Dispose();");
        writer.WriteLine("global::System.GC.SuppressFinalize(this);");
        writer.Close();
        writer.WriteLine();
        writer.Open($"{Tasks}.ValueTask global::System.IAsyncDisposable.DisposeAsync()");
        writer.WriteLine("Dispose();");
        writer.WriteLine("return default;");
        writer.Close();
        writer.WriteLine();
        writer.WriteLine("// The last resort for a proxy nobody disposed: its reference is released when it is collected,");
        writer.WriteLine("// with a warning naming the interface (a leak report), so a long-lived connection does not accumulate them.");
        writer.WriteLine($"~Proxy() => {Capnp}.CapnpServiceRegistry.ReleaseFinalized<{service.InterfaceType}>(_capability);");
        foreach (var method in model.Methods)
        {
            writer.WriteLine();
            if (method.Unmapped is not null)
            {
                // Not on the binding: the call fails here, before anything is sent.
                writer.WriteLine($"{method.Method.ReturnType} {method.Method.DeclaringInterface}.{method.Method.Name}({string.Join(", ", ProxyEmitter.DeclaredParameters(method.Method))}) =>");
                writer.WriteLine($"    throw {Unimplemented(method, service.ServiceName)};");
                continue;
            }

            if (method.ResultSink is not null || method.ParameterSink is not null)
            {
                EmitProxyStreamMethod(writer, model, method);
            }
            else
            {
                EmitProxyMethod(writer, model, method);
            }
        }

        writer.Close();
    }

    private static void EmitProxyMethod(SourceWriter writer, CapnpModel model, CapnpMethod capnp)
    {
        var method = capnp.Method;
        var parameters = string.Join(", ", ProxyEmitter.DeclaredParameters(method));
        var token = method.CancellationTokenName ?? "default";
        var isAsync = method.ReturnShape is ReturnShape.Task or ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT
            || (method.ReturnShape == ReturnShape.ValueTask && !method.IsOneWay);

        // Locals that cannot collide with the method's parameters.
        var taken = new HashSet<string>(method.Parameters.Select(p => p.Name.TrimStart('@')), System.StringComparer.Ordinal);
        if (method.CancellationTokenName is { } tokenName)
        {
            taken.Add(tokenName.TrimStart('@'));
        }

        string Local(string name)
        {
            while (!taken.Add(name))
            {
                name += "_";
            }

            return name;
        }

        var (request, builder, promise, response) = (Local("request"), Local("parameters"), Local("promise"), Local("response"));
        var pipelined = Local("pipelined");
        writer.Open($"{(isAsync ? "async " : string.Empty)}{method.ReturnType} {method.DeclaringInterface}.{method.Name}({parameters})");
        writer.WriteLine($"{Capnp}.CallPromise {promise};");
        writer.Open($"using (var {request} = this._capability.NewRequest({EmitContext.Hex(method.CapnpInterfaceId)}, {method.CapnpOrdinal}))");
        writer.WriteLine($"var {builder} = {request}.InitParams({capnp.ParamsLayout.DataWords}, {capnp.ParamsLayout.PointerCount});");
        for (var i = 0; i < method.Parameters.Count; i++)
        {
            var parameter = method.Parameters[i];
            var field = capnp.ParamsLayout.Fields[capnp.Parameters[i].Name];
            WriteField(writer, model.TypeOf(parameter.TypeKey), builder, field, parameter.Name, parameter.Type, Local);
        }

        writer.WriteLine($"{promise} = {request}.Send({token});");
        writer.Close();
        switch (method.ReturnShape)
        {
            case ReturnShape.Void:
            case ReturnShape.ValueTask when method.IsOneWay:
                // Cap'n Proto has no one-way call: the answer is awaited in the background and dropped.
                writer.WriteLine($"{Registry}.Forget({promise});");
                if (method.ReturnShape == ReturnShape.ValueTask)
                {
                    writer.WriteLine("return default;");
                }

                break;
            case ReturnShape.Promise:
                var slot = capnp.ResultFieldLayout.Offset;
                // The promise is dropped at once: the pipelined capability keeps the call going, and the
                // connection releases the rest of the results when they arrive (no task is left waiting).
                writer.WriteLine($"var {pipelined} = {promise}.GetPipelinedCapability({slot});");
                writer.WriteLine($"{promise}.Dispose();");
                writer.WriteLine($"return {Registry}.ToService<{method.ResultKey}>({pipelined});");
                break;
            default:
                writer.WriteLine($"using ({promise})");
                writer.Open();
                writer.WriteLine($"using var {response} = await {promise}.Response.ConfigureAwait(false);");
                if (method.ResultKey is { } resultKey)
                {
                    var field = capnp.ResultFieldLayout;
                    writer.WriteLine($"return {ReadField(model.TypeOf(resultKey), response + ".Results", field, method.ResultType!)};");
                }

                writer.Close();
                break;
        }

        writer.Close();
    }

    // A streamed result: the proxy serves the sink and passes it as the call's last parameter.
    //
    //     IAsyncEnumerable<Quote> IFeed.WatchAsync(string symbol, CancellationToken ct) =>
    //         CapnpStreams.ReceiveAsync<Quote>(this._capability, <sink id>, static reader => <read item>, (sink, token) =>
    //         {
    //             using var request = this._capability.NewRequest(<interface id>, <ordinal>);
    //             var parameters = request.InitParams(…);  <write symbol>;  parameters.WriteCapability(<slot>, sink);
    //             return request.Send(token);
    //         }, ct);
    //
    // A streamed parameter: the call returns a sink at once; the items are written to it pipelined, and its
    // end answers with the result.
    //
    //     async Task<Summary> IFeed.UploadAsync(IAsyncEnumerable<Row> rows, CancellationToken ct)
    //     {
    //         CallPromise promise;  using (var request = …) { …; promise = request.Send(ct); }
    //         using (promise)
    //         {
    //             using var response = await CapnpStreams.SendAsync<Row>(promise.GetPipelinedCapability(<slot>), <sink id>, rows, static (builder, item) => <write item>, …, ct);
    //             return <read the result from response.Results>;
    //         }
    //     }
    private static void EmitProxyStreamMethod(SourceWriter writer, CapnpModel model, CapnpMethod capnp)
    {
        var method = capnp.Method;
        var parameters = string.Join(", ", ProxyEmitter.DeclaredParameters(method));
        var token = method.CancellationTokenName ?? "default";
        var taken = new HashSet<string>(method.Parameters.Select(p => p.Name.TrimStart('@')), System.StringComparer.Ordinal);
        if (method.CancellationTokenName is { } tokenName)
        {
            taken.Add(tokenName.TrimStart('@'));
        }

        if (method.RequestStream is { } requested)
        {
            taken.Add(requested.Name.TrimStart('@'));
        }

        string Local(string name)
        {
            while (!taken.Add(name))
            {
                name += "_";
            }

            return name;
        }

        var (request, builder, promise, response, sinkLocal, tokenLocal) = (Local("request"), Local("parameters"), Local("promise"), Local("response"), Local("sink"), Local("token"));
        void WriteCall(string sendToken)
        {
            writer.Open($"using (var {request} = this._capability.NewRequest({EmitContext.Hex(method.CapnpInterfaceId)}, {method.CapnpOrdinal}))");
            writer.WriteLine($"var {builder} = {request}.InitParams({capnp.ParamsLayout.DataWords}, {capnp.ParamsLayout.PointerCount});");
            foreach (var (parameter, field) in capnp.ParameterFields)
            {
                WriteField(writer, model.TypeOf(parameter.TypeKey), builder, field, parameter.Name, parameter.Type, Local);
            }

            if (capnp.ResultSink is { } sink)
            {
                writer.WriteLine($"{builder}.WriteCapability({capnp.ParamsLayout.Fields[sink.Field].Offset}, {sinkLocal});");
                writer.WriteLine($"return {request}.Send({sendToken});");
            }
            else
            {
                writer.WriteLine($"{promise} = {request}.Send({sendToken});");
            }

            writer.Close();
        }

        if (capnp.ResultSink is { } resultSink)
        {
            var stream = method.ResponseStream!;
            writer.Open($"{method.ReturnType} {method.DeclaringInterface}.{method.Name}({parameters})");
            if (resultSink.Item is { } item)
            {
                var reader = Local("reader");
                writer.WriteLine($"return {Capnp}.CapnpStreams.ReceiveAsync<{stream.ItemType}>(this._capability, {EmitContext.Hex(resultSink.Id)}, static {reader} => {ReadField(item, reader, resultSink.ItemLayout, stream.ItemType)}, ({sinkLocal}, {tokenLocal}) =>");
            }
            else
            {
                var call = $"{Capnp}.CapnpStreams.ReceiveBytesAsync(this._capability, {EmitContext.Hex(resultSink.Id)}, ({sinkLocal}, {tokenLocal}) =>";
                writer.WriteLine(stream.Wrapper == StreamWrapper.ValueTask ? $"return new {Tasks}.ValueTask<global::System.IO.Stream>({call}" : $"return {call}");
            }

            writer.Open();
            WriteCall(tokenLocal);
            writer.Close(resultSink.Item is null && stream.Wrapper == StreamWrapper.ValueTask ? $", {token}));" : $", {token});");
            writer.Close();
            return;
        }

        var parameterSink = capnp.ParameterSink!;
        var requestStream = method.RequestStream!;
        writer.Open($"async {method.ReturnType} {method.DeclaringInterface}.{method.Name}({parameters})");
        writer.WriteLine($"{Capnp}.CallPromise {promise};");
        WriteCall(token);
        writer.WriteLine($"using ({promise})");
        writer.Open();
        var pipelinedSink = $"{promise}.GetPipelinedCapability({capnp.ResultsLayout.Fields[parameterSink.Field].Offset})";
        if (parameterSink.Item is { } parameterItem)
        {
            var (itemBuilder, itemValue) = (Local("builder"), Local("item"));
            writer.WriteLine($"using var {response} = await {Capnp}.CapnpStreams.SendAsync<{requestStream.ItemType}>({pipelinedSink}, {EmitContext.Hex(parameterSink.Id)}, {requestStream.Name},");
            writer.Open($"static ({itemBuilder}, {itemValue}) =>");
            WriteField(writer, parameterItem, itemBuilder, parameterSink.ItemLayout, itemValue, requestStream.ItemType, Local);
            writer.Close($", {parameterSink.WriteLayout.DataWords}, {parameterSink.WriteLayout.PointerCount}, {token}).ConfigureAwait(false);");
        }
        else
        {
            writer.WriteLine($"using var {response} = await {Capnp}.CapnpStreams.SendBytesAsync({pipelinedSink}, {EmitContext.Hex(parameterSink.Id)}, {requestStream.Name}, {token}).ConfigureAwait(false);");
        }

        if (method.ResultKey is { } resultKey)
        {
            var field = parameterSink.EndLayout.Fields[parameterSink.EndResults[0].Name];
            writer.WriteLine($"return {ReadField(model.TypeOf(resultKey), response + ".Results", field, method.ResultType!)};");
        }

        writer.Close();
        writer.Close();
    }

    // ------------------------------------------------------------------ server

    private static void EmitServer(SourceWriter writer, EmitContext context, CapnpModel model)
    {
        var service = context.Service;
        writer.WriteLine("/// <summary>Serves calls on a capability by calling the implementation; disposes it with the last reference when it is disposable.</summary>");
        writer.Open($"{context.Visibility} sealed class Server : {Capnp}.ICapabilityServer, global::System.IDisposable");
        writer.WriteLine($"private readonly {service.InterfaceType} _implementation;");
        writer.WriteLine();
        writer.WriteLine("/// <summary>Serves <paramref name=\"implementation\"/>.</summary>");
        writer.Open($"public Server({service.InterfaceType} implementation)");
        writer.WriteLine("_implementation = implementation ?? throw new global::System.ArgumentNullException(nameof(implementation));");
        writer.Close();
        writer.WriteLine();
        writer.WriteLine("/// <summary>Disposes the implementation when it is disposable: the last reference to it is gone.</summary>");
        writer.WriteLine("public void Dispose() => (this._implementation as global::System.IDisposable)?.Dispose();");
        writer.WriteLine();
        writer.WriteLine("/// <inheritdoc />");
        writer.Open($"public {Tasks}.Task DispatchAsync({Capnp}.CallContext context)");
        writer.Open("switch (context.InterfaceId)");
        foreach (var group in model.Methods.GroupBy(m => m.Method.CapnpInterfaceId))
        {
            writer.WriteLine($"case {EmitContext.Hex(group.Key)}:");
            writer.Open();
            writer.Open("switch (context.MethodId)");
            foreach (var method in group)
            {
                writer.WriteLine($"case {method.Method.CapnpOrdinal}:");
                writer.WriteLine(method.Unmapped is null
                    ? $"    return this.{method.Method.MemberName}(context);"
                    : $"    throw {Unimplemented(method, service.ServiceName)};");
            }

            writer.Close();
            writer.WriteLine("break;");
            writer.Close();
        }

        writer.Close();
        writer.WriteLine();
        // An interface this object implements means the method is what is missing; any other id means
        // the caller holds this capability as a type it is not, which a method number cannot explain.
        var implemented = model.Methods.Select(m => m.Method.CapnpInterfaceId).Append(service.CapnpId).Distinct().OrderBy(id => id).ToArray();
        var condition = string.Join(" or ", implemented.Select(EmitContext.Hex));
        var list = string.Join(", ", implemented.Select(id => "0x" + id.ToString("x16", System.Globalization.CultureInfo.InvariantCulture)));
        writer.WriteLine($"throw new {EmitContext.Runtime}.RpcException({EmitContext.Runtime}.RpcStatusCode.Unimplemented, context.InterfaceId is {condition}");
        writer.WriteLine($"    ? $\"{model.InterfaceName} has no method {{context.MethodId}} of interface 0x{{context.InterfaceId:x16}}.\"");
        writer.WriteLine($"    : $\"{model.InterfaceName} does not implement interface 0x{{context.InterfaceId:x16}} (it implements {list}).\");");
        writer.Close();
        writer.WriteLine();
        EmitFindMethod(writer, context, model);
        foreach (var method in model.Methods.Where(m => m.Unmapped is null))
        {
            writer.WriteLine();
            if (method.ResultSink is not null || method.ParameterSink is not null)
            {
                EmitServerStreamMethod(writer, context, model, method);
            }
            else
            {
                EmitServerMethod(writer, context, model, method);
            }
        }

        writer.Close();
    }

    // Writes the descriptor lookup a connection's authorization reads before a call runs:
    //
    //     public global::RpcGen.RpcMethodInfo? FindMethod(ulong interfaceId, ushort methodId) => (interfaceId, methodId) switch
    //     {
    //         (0xE1B2000000000002UL, 0) => global::Sketch.LayerRpc.NameAsync,
    //         _ => null,
    //     };
    private static void EmitFindMethod(SourceWriter writer, EmitContext context, CapnpModel model)
    {
        writer.WriteLine("/// <inheritdoc />");
        writer.WriteLine($"public {EmitContext.Runtime}.RpcMethodInfo? FindMethod(ulong interfaceId, ushort methodId) => (interfaceId, methodId) switch");
        writer.Open();
        foreach (var method in model.Methods.Where(m => m.Unmapped is null))
        {
            writer.WriteLine($"({EmitContext.Hex(method.Method.CapnpInterfaceId)}, {method.Method.CapnpOrdinal}) => {context.QualifiedRpcClass}.{method.Method.MemberName},");
        }

        writer.WriteLine("_ => null,");
        writer.Close(";");
    }

    private static void EmitServerMethod(SourceWriter writer, EmitContext context, CapnpModel model, CapnpMethod capnp)
    {
        var method = capnp.Method;
        var awaits = method.ReturnShape is not (ReturnShape.Void or ReturnShape.Promise);
        writer.Open($"private {(awaits ? "async " : string.Empty)}{Tasks}.Task {method.MemberName}({Capnp}.CallContext context)");

        // The parameters are read into C# values before anything can await: the message is the connection's.
        writer.WriteLine("var parameters = context.Params.GetStruct();");
        var locals = EmitContext.LocalNames(method.Parameters.Select(p => p.Name), "context", "parameters", "results", "result");
        var arguments = new List<string>();
        for (var i = 0; i < method.Parameters.Count; i++)
        {
            var parameter = method.Parameters[i];
            var field = capnp.ParamsLayout.Fields[capnp.Parameters[i].Name];
            writer.WriteLine($"var {locals[i]} = {ReadField(model.TypeOf(parameter.TypeKey), "parameters", field, parameter.Type)};");
            arguments.Add(locals[i]);
        }

        if (method.CancellationTokenName is not null)
        {
            arguments.Add("context.CancellationToken");
        }

        var target = method.DeclaringInterface == context.Service.InterfaceType
            ? "this._implementation"
            : $"(({method.DeclaringInterface})this._implementation)";
        var call = $"{target}.{method.Name}({string.Join(", ", arguments)})";
        var results = $"context.InitResults({capnp.ResultsLayout.DataWords}, {capnp.ResultsLayout.PointerCount})";
        switch (method.ReturnShape)
        {
            case ReturnShape.Void:
                writer.WriteLine($"{call};");
                writer.WriteLine($"{results};");
                writer.WriteLine($"return {Tasks}.Task.CompletedTask;");
                break;
            case ReturnShape.Promise:
                writer.WriteLine($"var result = {call};");
                writer.WriteLine($"var results = {results};");
                WriteField(writer, model.TypeOf(method.ResultKey!), "results", capnp.ResultFieldLayout, "result", method.ResultType!);
                writer.WriteLine($"return {Tasks}.Task.CompletedTask;");
                break;
            case ReturnShape.Task or ReturnShape.ValueTask:
                writer.WriteLine($"await {call}.ConfigureAwait(false);");
                writer.WriteLine($"{results};");
                break;
            default:
                writer.WriteLine($"var result = await {call}.ConfigureAwait(false);");
                writer.WriteLine($"var results = {results};");
                WriteField(writer, model.TypeOf(method.ResultKey!), "results", capnp.ResultFieldLayout, "result", method.ResultType!);
                break;
        }

        writer.Close();
    }

    // A streamed result: the implementation's items are written into the sink the caller passed.
    //
    //     private Task WatchAsync(CallContext context)
    //     {
    //         var parameters = context.Params.GetStruct();  var symbol = …;
    //         var sink = parameters.ReadCapability(<slot>);
    //         return CapnpStreams.SendAsync<Quote>(context, sink, <sink id>, this._implementation.WatchAsync(symbol, context.CancellationToken), static (builder, item) => <write item>, …);
    //     }
    //
    // A streamed parameter: a sink is returned at once; the implementation runs on the pool over its items,
    // and its result answers the sink's end.
    //
    //     private Task UploadAsync(CallContext context)
    //     {
    //         using var sink = CapnpStreams.Serve<Row>(context, <sink id>, static reader => <read item>, async (items, token) =>
    //         {
    //             var result = await this._implementation.UploadAsync(items, token).ConfigureAwait(false);
    //             return end => <write result into end.InitResults(…)>;
    //         });
    //         context.InitResults(…).WriteCapability(<slot>, sink);
    //         return Task.CompletedTask;
    //     }
    private static void EmitServerStreamMethod(SourceWriter writer, EmitContext context, CapnpModel model, CapnpMethod capnp)
    {
        var method = capnp.Method;
        writer.Open($"private {Tasks}.Task {method.MemberName}({Capnp}.CallContext context)");
        writer.WriteLine("var parameters = context.Params.GetStruct();");
        var locals = EmitContext.LocalNames(method.Parameters.Select(p => p.Name), "context", "parameters", "results", "result", "sink", "items", "token", "end", "reader", "builder", "item");
        var arguments = new List<string>();
        var index = 0;
        foreach (var (parameter, field) in capnp.ParameterFields)
        {
            writer.WriteLine($"var {locals[index]} = {ReadField(model.TypeOf(parameter.TypeKey), "parameters", field, parameter.Type)};");
            arguments.Add(locals[index++]);
        }

        var target = method.DeclaringInterface == context.Service.InterfaceType
            ? "this._implementation"
            : $"(({method.DeclaringInterface})this._implementation)";
        if (capnp.ResultSink is { } resultSink)
        {
            if (method.CancellationTokenName is not null)
            {
                arguments.Add("context.CancellationToken");
            }

            var stream = method.ResponseStream!;
            var call = $"{target}.{method.Name}({string.Join(", ", arguments)})";
            writer.WriteLine($"var sink = parameters.ReadCapability({capnp.ParamsLayout.Fields[resultSink.Field].Offset});");
            writer.Open("try");
            if (resultSink.Item is { } item)
            {
                writer.WriteLine($"return {Capnp}.CapnpStreams.SendAsync<{stream.ItemType}>(context, sink, {EmitContext.Hex(resultSink.Id)}, {call},");
                writer.Open("static (builder, item) =>");
                WriteField(writer, item, "builder", resultSink.ItemLayout, "item", stream.ItemType);
                writer.Close($", {resultSink.WriteLayout.DataWords}, {resultSink.WriteLayout.PointerCount});");
            }
            else
            {
                writer.WriteLine($"return {Capnp}.CapnpStreams.SendBytesAsync(context, sink, {EmitContext.Hex(resultSink.Id)}, {call}{(stream.Wrapper == StreamWrapper.ValueTask ? ".AsTask()" : string.Empty)});");
            }

            writer.Close();
            writer.Open("catch");
            writer.WriteLine("// The implementation threw before it returned its stream: the sink is not written to.");
            writer.WriteLine("sink?.Dispose();");
            writer.WriteLine("throw;");
            writer.Close();
            writer.Close();
            return;
        }

        var parameterSink = capnp.ParameterSink!;
        var requestStream = method.RequestStream!;
        arguments.Insert(requestStream.Index, "items");
        if (method.CancellationTokenName is not null)
        {
            arguments.Add("token");
        }

        var implementationCall = $"{target}.{method.Name}({string.Join(", ", arguments)})";
        if (parameterSink.Item is { } parameterItem)
        {
            writer.WriteLine($"using var sink = {Capnp}.CapnpStreams.Serve<{requestStream.ItemType}>(context, {EmitContext.Hex(parameterSink.Id)}, static reader => {ReadField(parameterItem, "reader", parameterSink.ItemLayout, requestStream.ItemType)}, async (items, token) =>");
        }
        else
        {
            writer.WriteLine($"using var sink = {Capnp}.CapnpStreams.ServeBytes(context, {EmitContext.Hex(parameterSink.Id)}, async (items, token) =>");
        }

        writer.Open();
        if (method.ResultKey is { } resultKey)
        {
            writer.WriteLine($"var result = await {implementationCall}.ConfigureAwait(false);");
            writer.Open("return end =>");
            writer.WriteLine($"var results = end.InitResults({parameterSink.EndLayout.DataWords}, {parameterSink.EndLayout.PointerCount});");
            WriteField(writer, model.TypeOf(resultKey), "results", parameterSink.EndLayout.Fields[parameterSink.EndResults[0].Name], "result", method.ResultType!);
            writer.Close(";");
        }
        else
        {
            writer.WriteLine($"await {implementationCall}.ConfigureAwait(false);");
            writer.WriteLine("return null;");
        }

        writer.Close(");");
        writer.WriteLine($"context.InitResults({capnp.ResultsLayout.DataWords}, {capnp.ResultsLayout.PointerCount}).WriteCapability({capnp.ResultsLayout.Fields[parameterSink.Field].Offset}, sink);");
        writer.WriteLine($"return {Tasks}.Task.CompletedTask;");
        writer.Close();
    }

    // ------------------------------------------------------------------ codecs

    private static void EmitCodec(SourceWriter writer, CapnpModel model)
    {
        writer.WriteLine("/// <summary>Writes and reads the structs and lists of the contract.</summary>");
        writer.Open("internal static class Codec");
        var first = true;
        foreach (var type in model.Structs)
        {
            if (!first)
            {
                writer.WriteLine();
            }

            first = false;
            EmitStructCodec(writer, model, type);
        }

        foreach (var list in model.Lists)
        {
            writer.WriteLine();
            EmitListCodec(writer, list);
        }

        writer.Close();
    }

    private static void EmitStructCodec(SourceWriter writer, CapnpModel model, CapnpStruct type)
    {
        var spec = type.Type.Spec;
        var layout = type.Layout;
        var id = spec.Identifier;
        writer.WriteLine($"/// <summary>The data section size of <c>{type.Name}</c>, in words.</summary>");
        writer.WriteLine($"public const ushort {id}DataWords = {layout.DataWords};");
        writer.WriteLine();
        writer.WriteLine($"/// <summary>The pointer section size of <c>{type.Name}</c>.</summary>");
        writer.WriteLine($"public const ushort {id}PointerCount = {layout.PointerCount};");
        writer.WriteLine();
        writer.WriteLine($"/// <summary>Writes <c>{type.Name}</c>.</summary>");
        writer.Open($"public static void Write{id}({Capnp}.StructBuilder builder, {spec.Key} value)");
        if (spec.Shape == TypeShape.Dto)
        {
            foreach (var member in spec.Dto!.Members)
            {
                WriteField(writer, model.TypeOf(member.TypeKey), "builder", layout.Fields[CapnpModel.FieldName(member.Name)], "value." + member.Name, member.Type);
            }
        }
        else
        {
            var tag = layout.Unions[string.Empty].DiscriminantOffset;
            writer.Open("switch (value)");
            foreach (var (known, index) in spec.KnownTypes.OrderBy(k => k.Tag).Select((k, i) => (k, i)))
            {
                var memberName = type.Shape.Members.OfType<UnionShape>().Single().Members[index].Name;
                var dto = model.SpecOf(known.TypeKey);
                var discriminant = layout.Groups.TryGetValue(memberName, out var group) ? group : layout.Fields[memberName].DiscriminantValue;
                writer.WriteLine($"case {known.TypeKey} member{index}:");
                writer.Open();
                writer.WriteLine($"builder.WriteUInt16({tag}, {discriminant});");
                var members = dto.Dto?.Members ?? EquatableArray<MemberSpec>.Empty;
                foreach (var member in members)
                {
                    var path = members.Count == 1 ? memberName : memberName + "." + CapnpModel.FieldName(member.Name);
                    WriteField(writer, model.TypeOf(member.TypeKey), "builder", layout.Fields[path], $"member{index}.{member.Name}", member.Type);
                }

                writer.WriteLine("break;");
                writer.Close();
            }

            writer.WriteLine("default:");
            writer.WriteLine($"    throw new {EmitContext.Runtime}.RpcException({EmitContext.Runtime}.RpcStatusCode.InvalidPayload, $\"'{{value.GetType()}}' is not a known subtype of '{spec.Key}'.\");");
            writer.Close();
        }

        writer.Close();
        writer.WriteLine();
        writer.WriteLine($"/// <summary>Reads <c>{type.Name}</c>; fields a shorter (older) struct lacks read as their defaults.</summary>");
        writer.Open($"public static {spec.Key} Read{id}({Capnp}.StructReader reader)");
        if (spec.Shape == TypeShape.Dto)
        {
            EmitConstruction(writer, model, spec.Key, spec.Dto!, member => layout.Fields[CapnpModel.FieldName(member.Name)]);
        }
        else
        {
            var tag = layout.Unions[string.Empty].DiscriminantOffset;
            writer.Open($"switch (reader.ReadUInt16({tag}))");
            foreach (var (known, index) in spec.KnownTypes.OrderBy(k => k.Tag).Select((k, i) => (k, i)))
            {
                var memberName = type.Shape.Members.OfType<UnionShape>().Single().Members[index].Name;
                var dto = model.SpecOf(known.TypeKey);
                var discriminant = layout.Groups.TryGetValue(memberName, out var group) ? group : layout.Fields[memberName].DiscriminantValue;
                var members = dto.Dto?.Members ?? EquatableArray<MemberSpec>.Empty;
                writer.WriteLine($"case {discriminant}:");
                writer.Open();
                EmitConstruction(writer, model, known.TypeKey, dto.Dto ?? new DtoSpec(EquatableArray<MemberSpec>.Empty, EquatableArray<string>.Empty), member =>
                    layout.Fields[members.Count == 1 ? memberName : memberName + "." + CapnpModel.FieldName(member.Name)]);
                writer.Close();
            }

            writer.WriteLine("default:");
            writer.WriteLine($"    throw new {EmitContext.Runtime}.RpcException({EmitContext.Runtime}.RpcStatusCode.InvalidPayload, \"{type.Name} holds an unknown union member.\");");
            writer.Close();
        }

        writer.Close();
    }

    private static void EmitConstruction(SourceWriter writer, CapnpModel model, string typeKey, DtoSpec dto, System.Func<MemberSpec, FieldLayout> fieldOf)
    {
        var locals = EmitContext.LocalNames(dto.Members.Select(m => m.Name), "reader", "result");
        var localOf = new Dictionary<string, string>(System.StringComparer.Ordinal);
        for (var i = 0; i < dto.Members.Count; i++)
        {
            var member = dto.Members[i];
            localOf[member.Name] = locals[i];
            writer.WriteLine($"var {locals[i]} = {ReadField(model.TypeOf(member.TypeKey), "reader", fieldOf(member), member.Type)};");
        }

        EmitContext.EmitConstruction(writer, typeKey, dto, localOf, static _ => null);
    }

    private static void EmitListCodec(SourceWriter writer, CapnpType list)
    {
        var spec = list.Spec;
        var element = list.Element!;
        var elementKey = element.Key;
        var id = spec.Identifier;
        writer.WriteLine($"/// <summary>Writes a <c>{list.Field}</c>; null writes a null pointer.</summary>");
        writer.Open($"public static void Write{id}({Capnp}.PointerBuilder pointer, {spec.Key}? value)");
        writer.Open("if (value is null)");
        writer.WriteLine("return;");
        writer.Close();
        writer.WriteLine();
        var items = "value";
        if (spec.Shape == TypeShape.List && !spec.IsConcreteCollection)
        {
            writer.WriteLine($"var items = value as global::System.Collections.Generic.IReadOnlyList<{elementKey}> ?? global::System.Linq.Enumerable.ToList(value);");
            items = "items";
        }

        var count = spec.Shape == TypeShape.Array ? $"{items}.Length" : $"{items}.Count";
        if (element.Kind == CapnpKind.Struct)
        {
            var layout = ElementLayoutExpression(element);
            writer.WriteLine($"var list = pointer.InitStructList({count}, {layout});");
        }
        else
        {
            writer.WriteLine($"var list = pointer.InitList({Capnp}.ElementSize.{element.ElementSize}, {count});");
        }

        writer.Open($"for (var i = 0; i < {count}; i++)");
        var item = $"{items}[i]";
        switch (element.Kind)
        {
            case CapnpKind.Primitive:
                writer.WriteLine($"list.Set{element.Primitive}(i, {item});");
                break;
            case CapnpKind.Enum:
                writer.WriteLine($"list.SetUInt16(i, (ushort){item});");
                break;
            case CapnpKind.Text:
                writer.WriteLine($"list.SetText(i, {item});");
                break;
            case CapnpKind.Data:
                writer.WriteLine($"list.GetPointer(i).SetData({item});");
                break;
            case CapnpKind.Struct:
                writer.WriteLine(element.Spec.IsValueType ? $"Write{element.Spec.Identifier}(list.GetStruct(i), {item});" : $"if ({item} is {{ }} element) Write{element.Spec.Identifier}(list.GetStruct(i), element);");
                break;
            case CapnpKind.Interface:
                writer.WriteLine($"{Registry}.WriteService<{elementKey}>(list.GetPointer(i), {item});");
                break;
            case CapnpKind.List:
                writer.WriteLine($"Write{element.Spec.Identifier}(list.GetPointer(i), {item});");
                break;
        }

        writer.Close();
        writer.Close();
        writer.WriteLine();
        writer.WriteLine($"/// <summary>Reads a <c>{list.Field}</c>; a null pointer reads as null.</summary>");
        writer.Open($"public static {spec.Key}? Read{id}({Capnp}.PointerReader pointer)");
        writer.Open("if (pointer.IsNull)");
        writer.WriteLine("return null;");
        writer.Close();
        writer.WriteLine();
        writer.WriteLine($"var list = pointer.GetList({Capnp}.ElementSize.{element.ElementSize});");
        var arrayElement = elementKey.EndsWith("[]", System.StringComparison.Ordinal)
            ? $"new {elementKey.Substring(0, elementKey.Length - 2)}[list.Count][]"
            : $"new {elementKey}[list.Count]";
        writer.WriteLine(spec.Shape == TypeShape.Array
            ? $"var result = {arrayElement};"
            : $"var result = new global::System.Collections.Generic.List<{elementKey}>(list.Count);");
        writer.Open("for (var i = 0; i < list.Count; i++)");
        var read = element.Kind switch
        {
            CapnpKind.Primitive => $"list.Get{element.Primitive}(i)",
            CapnpKind.Enum => $"({elementKey})list.GetUInt16(i)",
            CapnpKind.Text => "list.GetText(i) ?? string.Empty",
            CapnpKind.Data => "list.GetData(i).ToArray()",
            CapnpKind.Struct => $"Read{element.Spec.Identifier}(list.GetStruct(i))",
            CapnpKind.Interface => $"{Registry}.ReadService<{elementKey}>(list.GetPointer(i))!",
            _ => $"Read{element.Spec.Identifier}(list.GetPointer(i))!",
        };
        writer.WriteLine(spec.Shape == TypeShape.Array ? $"result[i] = {read};" : $"result.Add({read});");
        writer.Close();
        writer.WriteLine();
        writer.WriteLine("return result;");
        writer.Close();
    }

    private static string ElementLayoutExpression(CapnpType element) =>
        $"{element.Spec.Identifier}DataWords, {element.Spec.Identifier}PointerCount";

    // ------------------------------------------------------------------ fields

    /// <summary>Writes <paramref name="value"/> into the field of a struct being built.</summary>
    private static void WriteField(SourceWriter writer, CapnpType type, string builder, FieldLayout field, string value, string declaredType, System.Func<string, string>? local = null)
    {
        var offset = field.Offset;
        local ??= static name => name;
        switch (type.Kind)
        {
            case CapnpKind.Primitive:
                writer.WriteLine($"{builder}.Write{type.Primitive}({offset}, {value});");
                break;
            case CapnpKind.Enum:
                writer.WriteLine($"{builder}.WriteUInt16({offset}, (ushort){value});");
                break;
            case CapnpKind.Text:
                writer.WriteLine($"{builder}.WriteText({offset}, {value});");
                break;
            case CapnpKind.Data:
                var data = local($"data{offset}");
                writer.WriteLine($"if ({value} is {{ }} {data}) {builder}.WriteData({offset}, {data});");
                break;
            case CapnpKind.List:
                writer.WriteLine($"Codec.Write{type.Spec.Identifier}({builder}.GetPointer({offset}), {value});");
                break;
            case CapnpKind.Interface:
                writer.WriteLine($"{Registry}.WriteService<{type.Key}>({builder}.GetPointer({offset}), {value});");
                break;
            case CapnpKind.Struct:
                var init = $"{builder}.InitStruct({offset}, Codec.{type.Spec.Identifier}DataWords, Codec.{type.Spec.Identifier}PointerCount)";
                var instance = local($"struct{offset}");
                writer.WriteLine(type.Spec.IsValueType && !declaredType.EndsWith("?", System.StringComparison.Ordinal)
                    ? $"Codec.Write{type.Spec.Identifier}({init}, {value});"
                    : $"if ({value} is {{ }} {instance}) Codec.Write{type.Spec.Identifier}({init}, {instance});");
                break;
        }
    }

    /// <summary>The expression that reads the field of a struct.</summary>
    private static string ReadField(CapnpType type, string reader, FieldLayout field, string declaredType)
    {
        var offset = field.Offset;
        var nullable = declaredType.EndsWith("?", System.StringComparison.Ordinal);
        return type.Kind switch
        {
            CapnpKind.Primitive => $"{reader}.Read{type.Primitive}({offset})",
            CapnpKind.Enum => $"({type.Key}){reader}.ReadUInt16({offset})",
            CapnpKind.Text => nullable ? $"{reader}.ReadText({offset}, null)" : $"{reader}.ReadText({offset}) ?? string.Empty",
            CapnpKind.Data => nullable ? $"({reader}.HasPointer({offset}) ? {reader}.ReadData({offset}).ToArray() : null)" : $"{reader}.ReadData({offset}).ToArray()",
            CapnpKind.List => nullable
                ? $"Codec.Read{type.Spec.Identifier}({reader}.GetPointer({offset}))"
                : $"(Codec.Read{type.Spec.Identifier}({reader}.GetPointer({offset})) ?? {EmptyList(type)})",
            CapnpKind.Interface => nullable
                ? $"{Registry}.ReadService<{type.Key}>({reader}.GetPointer({offset}))"
                : $"{Registry}.ReadService<{type.Key}>({reader}.GetPointer({offset}))!",
            _ => nullable
                ? $"({reader}.HasPointer({offset}) ? Codec.Read{type.Spec.Identifier}({reader}.ReadStruct({offset})) : null)"
                : $"Codec.Read{type.Spec.Identifier}({reader}.ReadStruct({offset}))",
        };
    }

    private static string EmptyList(CapnpType list) => list.Spec.Shape == TypeShape.Array
        ? $"global::System.Array.Empty<{list.Element!.Key}>()"
        : $"new global::System.Collections.Generic.List<{list.Element!.Key}>()";
}
