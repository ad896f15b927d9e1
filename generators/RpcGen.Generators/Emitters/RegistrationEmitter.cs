using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Emitters;

/// <summary>Emits the module initializer that registers the service and its formatters when the assembly loads.</summary>
internal static class RegistrationEmitter
{
    // internal (public in a client package) static class GreeterRpcRegistration
    // {
    //     [global::System.Runtime.CompilerServices.ModuleInitializer]
    //     internal (public in a client package) static void Register()
    //     {
    //         global::RpcGen.Serialization.RpcFormatter<global::Acme.HelloReply>.TryRegister(global::Acme.GreeterRpc.Formatters.HelloReplyFormatter.Instance);
    //         global::RpcGen.RpcServiceRegistry.Register<global::Acme.IGreeter>(global::Acme.GreeterRpc.Service, static channel => new global::Acme.GreeterProxy(channel), static implementation => new global::Acme.GreeterDispatcher(implementation), static resolution => new global::Acme.GreeterPromise(resolution));
    //     }
    // }
    public static string Emit(ServiceSpec service)
    {
        var context = new EmitContext(service);
        var writer = new SourceWriter();

        // CA2255 warns libraries off module initializers; registering generated code at load time,
        // without reflection, is exactly their purpose.
        context.WriteHeader(writer, "CA2255");
        writer.WriteLine($"/// <summary>Registers the generated code of <c>{service.ServiceName}</c> when the assembly loads.</summary>");
        writer.WriteLine(EmitContext.GeneratedCodeAttribute);
        writer.Open($"{context.Visibility} static class {context.RegistrationClass}");
        writer.WriteLine("/// <summary>Registers the formatters, the proxy and the dispatcher.</summary>");
        writer.WriteLine("[global::System.Runtime.CompilerServices.ModuleInitializer]");
        writer.Open($"{context.Visibility} static void Register()");
        var formatters = context.QualifiedRpcClass + ".Formatters";
        foreach (var type in service.Types)
        {
            // Builtins are the runtime's own and unsupported types have none; everything else, composed formatters included, is
            // registered so code outside the generated classes can reach it through RpcFormatter<T>.
            if (type.Shape is not (TypeShape.Builtin or TypeShape.Unsupported) && type.FormattedType is null)
            {
                writer.WriteLine($"{EmitContext.Serialization}.RpcFormatter<{type.Key}>.TryRegister({context.FormatterOf(type.Key, formatters)});");
            }
        }

        writer.WriteLine($"{EmitContext.Runtime}.RpcServiceRegistry.Register<{service.InterfaceType}>(");
        writer.WriteLine($"    {context.QualifiedRpcClass}.Service,");
        writer.WriteLine($"    static channel => new {context.NamespacePrefix}{context.ProxyClass}(channel),");
        writer.WriteLine($"    static implementation => new {context.NamespacePrefix}{context.DispatcherClass}(implementation),");
        writer.WriteLine($"    static resolution => new {context.NamespacePrefix}{context.PromiseClass}(resolution));");
        writer.Close();
        writer.Close();
        return writer.ToString();
    }
}
