using Microsoft.CodeAnalysis;

namespace RpcGen.Generators;

/// <summary>
/// The generator's own diagnostics. The generator reports only what stops it from generating; the
/// analyzers (RPC0001…) explain each misuse at its site.
/// </summary>
internal static class DiagnosticDescriptors
{
    /// <summary>The id of <see cref="ServiceNotGenerated"/>.</summary>
    public const string ServiceNotGeneratedId = "RPC1000";

    /// <summary>
    /// <c>Code for '{0}' was not generated: {1}. See the RPCxxxx diagnostics on it.</c> — the
    /// service breaks a contract rule, so no proxy, dispatcher or formatter exists for it.
    /// </summary>
    public static readonly DiagnosticDescriptor ServiceNotGenerated = new(
        ServiceNotGeneratedId,
        title: "RpcGen code was not generated for a service",
        messageFormat: "Code for '{0}' was not generated: {1}. See the RPCxxxx diagnostics on it.",
        category: "RpcGen.Generator",
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The [RpcService] interface breaks a contract rule, so the generator emitted nothing for it. The analyzers report each rule it breaks.",
        helpLinkUri: "https://github.com/rpcgen/rpcgen#rpc1000");

    /// <summary>
    /// The id of <see cref="NoCapnpBinding"/>: hidden, because a cached spec holds no location; the
    /// analyzers report each such method as a warning at the method (RPC0022).
    /// </summary>
    public const string NoCapnpBindingId = "RPC1001";

    /// <summary>
    /// <c>{0}</c>: <c>'Acme.IPrices' has no Cap'n Proto binding: …</c> when no method of the contract can be
    /// carried, or <c>'TicksAsync' is not on the Cap'n Proto binding of 'Acme.IPrices': …</c> for one method
    /// left off an otherwise bound contract. Either still works on the message transport.
    /// </summary>
    public static readonly DiagnosticDescriptor NoCapnpBinding = new(
        NoCapnpBindingId,
        title: "A service has no Cap'n Proto binding",
        messageFormat: "{0}",
        category: "RpcGen.Generator",
        defaultSeverity: DiagnosticSeverity.Hidden,
        isEnabledByDefault: true,
        description: "The project references the capability transport, but the contract streams both ways in a method or uses a type that Cap'n Proto cannot carry (a stream one way travels through a sink capability). The message-transport code is generated as usual. A method Cap'n Proto cannot carry is left off the binding (its calls fail with Unimplemented and the reason) and the others keep it; when no method can be carried, Bootstrap<T>() and the other capability entry points throw NotSupportedException with the reason.",
        helpLinkUri: "https://github.com/rpcgen/rpcgen#rpc1001");
}
