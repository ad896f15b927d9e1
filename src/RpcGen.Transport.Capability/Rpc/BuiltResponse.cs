namespace RpcGen.Capnp;

/// <summary>Results built here (by a local server) in a message shaped as an rpc.capnp <c>Return</c>; the message is owned.</summary>
internal sealed class BuiltResponse(CapnpMessageBuilder builder, StructBuilder returnStruct, StructBuilder payload, PointerBuilder content) : ResponseCore
{
    private int _usedInPlace;

    /// <summary>A reader over the builder, made on each use: results a connection sends back in place are never read here.</summary>
    public override PointerReader Content => content.AsReader();

    public override StructBuilder? ReturnStruct => returnStruct;

    public override StructBuilder Payload => payload;

    public override CapnpMessageBuilder? Builder => builder;

    public override bool TryUseInPlace() => Interlocked.Exchange(ref _usedInPlace, 1) == 0;

    protected override void OnReleased() => builder.Dispose();
}
