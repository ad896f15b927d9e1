using System.Collections.Generic;
using RpcGen.Generators.Model;

namespace RpcGen.Generators.Emitters;

/// <summary>Emits every file of one service, in a fixed order, with hint names like <c>Acme.IGreeter.Proxy.g.cs</c>.</summary>
internal static class ServiceEmitter
{
    // Acme.IGreeter.Contract.g.cs      GreeterRpc: descriptors and request envelopes
    // Acme.IGreeter.Proxy.g.cs         GreeterProxy
    // Acme.IGreeter.Dispatcher.g.cs    GreeterDispatcher
    // Acme.IGreeter.Promise.g.cs       GreeterPromise
    // Acme.IGreeter.Formatters.g.cs    GreeterRpc.Formatters
    // Acme.IGreeter.Registration.g.cs  GreeterRpcRegistration (module initializer)
    public static IEnumerable<(string HintName, string Source)> Emit(ServiceSpec service)
    {
        yield return (service.HintPrefix + ".Contract.g.cs", ContractEmitter.Emit(service));
        yield return (service.HintPrefix + ".Proxy.g.cs", ProxyEmitter.Emit(service));
        yield return (service.HintPrefix + ".Dispatcher.g.cs", DispatcherEmitter.Emit(service));
        yield return (service.HintPrefix + ".Promise.g.cs", PromiseEmitter.Emit(service));
        yield return (service.HintPrefix + ".Formatters.g.cs", FormattersEmitter.Emit(service));
        yield return (service.HintPrefix + ".Registration.g.cs", RegistrationEmitter.Emit(service));
    }
}
