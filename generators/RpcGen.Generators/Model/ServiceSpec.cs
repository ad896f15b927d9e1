namespace RpcGen.Generators.Model;

/// <summary>Everything the emitters need to know about one <c>[RpcService]</c> interface.</summary>
/// <param name="Namespace">The interface's namespace, empty for the global namespace; generated types go there.</param>
/// <param name="InterfaceType">The interface as a fully qualified type, e.g. <c>global::Acme.IGreeter</c>.</param>
/// <param name="ServiceName">The name on the wire and in telemetry, e.g. <c>Acme.IGreeter</c>.</param>
/// <param name="BaseName">The prefix of the generated type names: <c>IGreeter</c> gives <c>Greeter</c>; a nested <c>Outer.IGreeter</c> gives <c>Outer_Greeter</c>.</param>
/// <param name="Id">The 64-bit service id.</param>
/// <param name="Methods">The service's methods (its own, then inherited ones) in declaration order.</param>
/// <param name="Types">Every type reachable from the signatures, in the order first met.</param>
/// <param name="Rejection">Why no code can be generated, or null.</param>
/// <param name="CapnpId">The Cap'n Proto interface id: the pinned id, or the derived one with its top bit set as the schema language requires.</param>
/// <param name="AllPublic">Whether the interface and every type it reaches are public, so that its generated code can be public too.</param>
/// <param name="PublicCode">Whether the generated code is emitted public (a client package: <c>RpcGenClientPackage=true</c> and <paramref name="AllPublic"/>) rather than internal. Set by the pipeline, not the parser.</param>
/// <param name="Location">Where to report <see cref="Rejection"/>; only set together with it, so a valid spec holds no positions and survives edits elsewhere in the file.</param>
/// <param name="ContainingType">The key of the type the interface is nested in, or null.</param>
internal sealed record ServiceSpec(
    string Namespace,
    string InterfaceType,
    string ServiceName,
    string BaseName,
    ulong Id,
    EquatableArray<MethodSpec> Methods,
    EquatableArray<TypeSpec> Types,
    string? Rejection,
    LocationInfo? Location,
    ulong CapnpId = 0,
    bool AllPublic = false,
    bool PublicCode = false,
    string? ContainingType = null)
{
    /// <summary>The hint name prefix, e.g. <c>Acme.IGreeter</c> (nested: <c>Acme.Outer.IGreeter</c>).</summary>
    public string HintPrefix => ServiceName;
}
