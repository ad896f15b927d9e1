using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RpcGen.Generators.Emitters;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators;

/// <summary>
/// Generates, for every <c>[RpcService]</c> interface, the method descriptors and request envelopes,
/// a client proxy, a server dispatcher, MessagePack formatters for every reachable type, and a
/// module initializer that registers them.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class RpcGenerator : IIncrementalGenerator
{
    /// <summary>The tracking names of the pipeline steps, for cacheability tests.</summary>
    public static class TrackingNames
    {
        /// <summary>The step that turns each <c>[RpcService]</c> interface into a <c>ServiceSpec</c>.</summary>
        public const string ServiceSpecs = nameof(ServiceSpecs);
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var services = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                RpcContractRules.RpcServiceAttribute,
                predicate: static (node, _) => node is InterfaceDeclarationSyntax,
                transform: static (attributed, cancellationToken) =>
                    Parser.Parse((INamedTypeSymbol)attributed.TargetSymbol, attributed.TargetNode, cancellationToken))
            .WithTrackingName(TrackingNames.ServiceSpecs);

        // The Cap'n Proto binding only where the capability transport is referenced; a bool, so
        // edits elsewhere leave this step cached.
        var hasCapabilityTransport = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(CapabilityTransportMarker) is not null);

        // A client package (RpcGenClientPackage=true) ships its generated code public, so consumers
        // of the package need no generator; a bool, like the one above.
        var clientPackage = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) =>
                options.GlobalOptions.TryGetValue(ClientPackageProperty, out var value)
                && string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase));

        context.RegisterSourceOutput(
            services.Combine(hasCapabilityTransport).Combine(clientPackage),
            static (output, pair) => Emit(output, pair.Left.Left, pair.Left.Right, pair.Right));

        // The whole contract as one Cap'n Proto schema: every service of the compilation together,
        // so the services that pass each other are declared once. A string, so it stays cached too.
        var assemblyName = context.CompilationProvider
            .Select(static (compilation, _) => compilation.AssemblyName ?? string.Empty);
        context.RegisterSourceOutput(
            services.Collect().Combine(hasCapabilityTransport).Combine(assemblyName),
            static (output, pair) => EmitContract(output, pair.Left.Left, pair.Left.Right, pair.Right));
    }

    /// <summary>A type of the capability transport whose presence turns the Cap'n Proto binding on.</summary>
    public const string CapabilityTransportMarker = "RpcGen.Capnp.ICapnpProxy";

    /// <summary>The MSBuild property (made visible by <c>build/RpcGen.props</c>) that asks for public generated code.</summary>
    public const string ClientPackageProperty = "build_property.RpcGenClientPackage";

    /// <summary>The hint name of the contract's Cap'n Proto schema.</summary>
    public const string CapnpContractHintName = "RpcGen.CapnpContract.g.cs";

    private static void EmitContract(SourceProductionContext output, ImmutableArray<ServiceSpec> services, bool capnp, string assemblyName)
    {
        if (capnp && Emitters.Capnp.CapnpContractEmitter.Emit(services, assemblyName) is { } source)
        {
            output.AddSource(CapnpContractHintName, source);
        }
    }

    private static void Emit(SourceProductionContext output, ServiceSpec service, bool capnp, bool clientPackage)
    {
        service = service with { PublicCode = clientPackage && service.AllPublic };
        if (service.Rejection is { } reason)
        {
            output.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.ServiceNotGenerated,
                service.Location?.ToLocation(),
                service.ServiceName,
                reason));
            return;
        }

        foreach (var (hintName, source) in ServiceEmitter.Emit(service))
        {
            output.AddSource(hintName, source);
        }

        if (capnp)
        {
            output.AddSource(service.HintPrefix + ".Capnp.g.cs", Emitters.Capnp.CapnpEmitter.Emit(service, out var rejection, out var unmapped));

            // A valid spec holds no positions (so it stays cached across edits); the message names the service and method.
            if (rejection is not null)
            {
                output.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NoCapnpBinding, null, $"'{service.ServiceName}' has no Cap'n Proto binding: {rejection}"));
            }

            foreach (var method in unmapped)
            {
                output.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NoCapnpBinding, null, method));
            }
        }
    }
}
