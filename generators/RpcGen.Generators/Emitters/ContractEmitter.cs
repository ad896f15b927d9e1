using System.Linq;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Emitters;

/// <summary>Emits <c>{Base}Rpc</c>: the service and method descriptors, and the request envelopes with their formatters.</summary>
internal static class ContractEmitter
{
    // internal (public in a client package) static partial class GreeterRpc
    // {
    //     public static readonly global::RpcGen.RpcServiceInfo Service = new("Acme.IGreeter", 0x...UL);
    //     public static readonly global::RpcGen.RpcMethod<SayHelloAsyncRequest, global::Acme.HelloReply> SayHelloAsync = new(
    //         Service, "SayHelloAsync", 0x...u, global::RpcGen.RpcMethodKind.Unary,
    //         SayHelloAsyncRequestFormatter.Instance, Formatters.HelloReplyFormatter.Instance);
    //     public readonly struct SayHelloAsyncRequest { ... }
    //     public sealed class SayHelloAsyncRequestFormatter : IRpcFormatter<SayHelloAsyncRequest> { ... }
    // }
    public static string Emit(ServiceSpec service)
    {
        var context = new EmitContext(service);
        var writer = new SourceWriter();
        context.WriteHeader(writer);
        writer.WriteLine($"/// <summary>The RpcGen descriptors and request envelopes of <c>{service.ServiceName}</c>.</summary>");
        writer.WriteLine(EmitContext.GeneratedCodeAttribute);
        writer.Open($"{context.Visibility} static partial class {context.RpcClass}");
        writer.WriteLine("/// <summary>The service description.</summary>");
        writer.WriteLine($"public static readonly {EmitContext.Runtime}.RpcServiceInfo Service = new({EmitContext.Literal(service.ServiceName)}, {EmitContext.Hex(service.Id)});");
        foreach (var method in service.Methods)
        {
            writer.WriteLine();
            EmitDescriptor(writer, context, method);
        }

        foreach (var method in service.Methods.Where(m => m.RequestType is not null))
        {
            writer.WriteLine();
            EmitEnvelope(writer, method);
            writer.WriteLine();
            EmitEnvelopeFormatter(writer, context, method);
        }

        writer.Close();
        return writer.ToString();
    }

    // public static readonly global::RpcGen.RpcMethod<TRequest, TResponse> Name = new(
    //     Service, "Name", 0x...u, global::RpcGen.RpcMethodKind.Unary, <request formatter>, <response formatter>);
    //
    // Streaming methods get an RpcStreamingMethod<TRequest, TRequestItem, TResponse>, where TResponse
    // is the streamed item (server and duplex streaming) or the single result (client streaming):
    // public static readonly global::RpcGen.RpcStreamingMethod<global::RpcGen.RpcVoid, int, int> SumAsync = new(
    //     Service, "SumAsync", 0x...u, global::RpcGen.RpcMethodKind.ClientStreaming, <request>, <request item>, <response>);
    private static void EmitDescriptor(SourceWriter writer, EmitContext context, MethodSpec method)
    {
        const string Void = $"{EmitContext.Runtime}.RpcVoid";
        const string VoidFormatter = $"{EmitContext.Serialization}.RpcVoidFormatter.Instance";
        var request = method.RequestType ?? Void;
        var requestFormatter = method.RequestType is { } envelope ? envelope + "Formatter.Instance" : VoidFormatter;
        var (response, responseFormatter) = method.ResponseStream is { } responseStream
            ? (responseStream.ItemKey, context.StreamItemFormatterOf(responseStream))
            : method.ResultKey is { } key ? (key, context.FormatterOf(key)) : (Void, VoidFormatter);
        var kind = method.IsOneWay ? CallKind.OneWay : method.Kind;
        writer.WriteLine($"/// <summary>The descriptor of <c>{method.Name.TrimStart('@')}</c>.</summary>");
        if (method.IsStreaming)
        {
            var (item, itemFormatter) = method.RequestStream is { } requestStream
                ? (requestStream.ItemKey, context.StreamItemFormatterOf(requestStream))
                : (Void, VoidFormatter);
            writer.WriteLine($"public static readonly {EmitContext.Runtime}.RpcStreamingMethod<{request}, {item}, {response}> {method.MemberName} = new(");
            writer.WriteLine($"    Service, {EmitContext.Literal(method.Name.TrimStart('@'))}, {EmitContext.Hex(method.Id)}, {EmitContext.Runtime}.RpcMethodKind.{kind},");
            writer.WriteLine($"    {requestFormatter}, {itemFormatter}, {responseFormatter}){DescriptorInitializer(method)};");
            return;
        }

        writer.WriteLine($"public static readonly {EmitContext.Runtime}.RpcMethod<{request}, {response}> {method.MemberName} = new(");
        writer.WriteLine($"    Service, {EmitContext.Literal(method.Name.TrimStart('@'))}, {EmitContext.Hex(method.Id)}, {EmitContext.Runtime}.RpcMethodKind.{kind},");
        writer.WriteLine($"    {requestFormatter}, {responseFormatter}){DescriptorInitializer(method)};");
    }

    // An [Idempotent] or [RpcAuthorize] method's descriptor ends with an initializer; others have
    // none, so their generated code is unchanged:
    //     <request formatter>, <response formatter>) { IsIdempotent = true, AuthorizationPolicies = new string[] { "admin" } };
    private static string DescriptorInitializer(MethodSpec method)
    {
        var assignments = new System.Collections.Generic.List<string>();
        if (method.IsIdempotent)
        {
            assignments.Add("IsIdempotent = true");
        }

        if (method.AuthorizationPolicies.Count > 0)
        {
            assignments.Add("AuthorizationPolicies = new string[] { " + string.Join(", ", method.AuthorizationPolicies.Select(EmitContext.Literal)) + " }");
        }

        return assignments.Count == 0 ? string.Empty : " { " + string.Join(", ", assignments) + " }";
    }

    // public readonly struct NameRequest
    // {
    //     public readonly T1 Param1;
    //     public NameRequest(T1 param1) { this.Param1 = param1; }
    // }
    private static void EmitEnvelope(SourceWriter writer, MethodSpec method)
    {
        writer.WriteLine($"/// <summary>The parameters of <c>{method.Name.TrimStart('@')}</c>.</summary>");
        writer.WriteLine(EmitContext.GeneratedCodeAttribute);
        writer.Open($"public readonly struct {method.RequestType}");
        foreach (var parameter in method.Parameters)
        {
            writer.WriteLine($"public readonly {parameter.Type} {parameter.FieldName};");
        }

        writer.WriteLine();
        var parameters = string.Join(", ", method.Parameters.Select(p => $"{p.Type} {p.Name}"));
        writer.Open($"public {method.RequestType}({parameters})");
        foreach (var parameter in method.Parameters)
        {
            writer.WriteLine($"this.{parameter.FieldName} = {parameter.Name};");
        }

        writer.Close();
        writer.Close();
    }

    // Writes [p1, p2, ...]; reads an array, skipping trailing elements it does not know and leaving
    // missing ones default, so a method can gain a trailing parameter without breaking old peers.
    private static void EmitEnvelopeFormatter(SourceWriter writer, EmitContext context, MethodSpec method)
    {
        var envelope = method.RequestType!;
        writer.WriteLine(EmitContext.GeneratedCodeAttribute);
        writer.Open($"public sealed class {envelope}Formatter : {EmitContext.Serialization}.IRpcFormatter<{envelope}>");
        writer.WriteLine($"public static readonly {envelope}Formatter Instance = new();");
        writer.WriteLine();
        writer.Open($"public void Serialize(ref {EmitContext.Writer} writer, {envelope} value)");
        writer.WriteLine($"writer.WriteArrayHeader({method.Parameters.Count});");
        foreach (var parameter in method.Parameters)
        {
            var bang = EmitContext.Bang(parameter.Type, parameter.TypeKey, parameter.IsValueType);
            writer.WriteLine($"{context.FormatterOf(parameter.TypeKey)}.Serialize(ref writer, value.{parameter.FieldName}{bang});");
        }

        writer.Close();
        writer.WriteLine();
        writer.Open($"public {envelope} Deserialize(ref {EmitContext.Reader} reader)");
        var locals = EmitContext.LocalNames(method.Parameters.Select(p => p.Name), "reader", "count", "index");
        writer.WriteLine("var count = reader.ReadArrayHeader();");
        writer.WriteLine($"{EmitContext.Serialization}.RpcSerializer.EnterNested(ref reader);");
        for (var i = 0; i < method.Parameters.Count; i++)
        {
            var parameter = method.Parameters[i];
            writer.WriteLine($"{parameter.Type} {locals[i]} = {EmitContext.DefaultOf(parameter.Type, parameter.IsValueType)};");
        }

        writer.Open("for (var index = 0; index < count; index++)");
        writer.Open("switch (index)");
        for (var i = 0; i < method.Parameters.Count; i++)
        {
            var parameter = method.Parameters[i];
            var bang = EmitContext.Bang(parameter.Type, parameter.TypeKey, parameter.IsValueType);
            writer.WriteLine($"case {i}:");
            writer.WriteLine($"    {locals[i]} = {context.FormatterOf(parameter.TypeKey)}.Deserialize(ref reader){bang};");
            writer.WriteLine("    break;");
        }

        writer.WriteLine("default:");
        writer.WriteLine($"    {EmitContext.Serialization}.MessagePackSkipper.Skip(ref reader);");
        writer.WriteLine("    break;");
        writer.Close();
        writer.Close();
        writer.WriteLine();
        writer.WriteLine("reader.Depth--;");
        writer.WriteLine($"return new {envelope}({string.Join(", ", locals)});");
        writer.Close();
        writer.Close();
    }
}
