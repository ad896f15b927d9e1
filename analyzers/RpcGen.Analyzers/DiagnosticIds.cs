namespace RpcGen.Analyzers;

/// <summary>
/// The stable ids of every RpcGen diagnostic. Ids are never reused or renumbered: the README has a
/// section per id, and users suppress them by id.
/// </summary>
internal static class DiagnosticIds
{
    /// <summary><c>[RpcService]</c> on something that is not an interface.</summary>
    public const string ServiceNotInterface = "RPC0001";

    /// <summary>A generic service interface, or one nested in a generic type.</summary>
    public const string GenericService = "RPC0002";

    /// <summary>A generic method in a service.</summary>
    public const string GenericMethod = "RPC0003";

    /// <summary>A <c>ref</c>, <c>out</c>, <c>in</c> or <c>ref readonly</c> parameter.</summary>
    public const string ByRefParameter = "RPC0004";

    /// <summary>A return type that is not a task (or <c>void</c> for one-way).</summary>
    public const string UnsupportedReturnType = "RPC0005";

    /// <summary>A <c>[OneWay]</c> method that returns a value or a <c>Task</c>.</summary>
    public const string InvalidOneWayReturn = "RPC0006";

    /// <summary>A <c>CancellationToken</c> that is not the last parameter.</summary>
    public const string MisplacedCancellationToken = "RPC0007";

    /// <summary>A type in a signature that cannot be serialized.</summary>
    public const string UnserializableType = "RPC0008";

    /// <summary>Two methods of a service with the same id.</summary>
    public const string DuplicateMethodId = "RPC0009";

    /// <summary>Two services of a compilation with the same id.</summary>
    public const string DuplicateServiceId = "RPC0010";

    /// <summary>A pinned id, ordinal, member position or known-type tag out of range.</summary>
    public const string OutOfRange = "RPC0011";

    /// <summary>A <c>[RpcKnownType]</c> whose subtype does not derive from the base, or a repeated tag or subtype.</summary>
    public const string InvalidKnownType = "RPC0012";

    /// <summary>Two DTO members pinned to the same <c>[RpcMember]</c> position.</summary>
    public const string DuplicateMemberPosition = "RPC0013";

    /// <summary>An abstract property, event or indexer, or a static abstract or virtual member, in a service interface.</summary>
    public const string NotAnInstanceMethod = "RPC0014";

    /// <summary>A service interface that generated code cannot name (private, protected, or inside such a type).</summary>
    public const string InaccessibleService = "RPC0015";

    /// <summary>A stream no call can carry: two stream parameters, a stream on a <c>[OneWay]</c> method, a synchronous <c>Stream</c> result, or <c>IAsyncEnumerable&lt;T&gt;</c> inside a task.</summary>
    public const string InvalidStream = "RPC0016";

    /// <summary>A DTO member with state that generated code cannot set (a private setter, a get-only auto-property, a read-only field the constructor does not take).</summary>
    public const string UnsettableMember = "RPC0017";

    /// <summary>An <c>[RpcUseFormatter]</c> naming a type generated code cannot use as the formatter of the type or member.</summary>
    public const string InvalidFormatter = "RPC0018";

    /// <summary>A thread blocked on a remote call: <c>.Result</c>, <c>.Wait()</c> or <c>.GetAwaiter().GetResult()</c> on the task of an <c>[RpcService]</c> method.</summary>
    public const string BlockingCall = "RPC0019";

    /// <summary>A <c>[OneWay]</c> method that takes a <c>CancellationToken</c>, which nothing can cancel.</summary>
    public const string OneWayCancellation = "RPC0020";

    /// <summary>An interface in a contract that is not an <c>[RpcService]</c> (a callback missing the attribute) nor a base with known subtypes.</summary>
    public const string InterfaceNotService = "RPC0021";

    /// <summary>A method the Cap'n Proto binding cannot carry (a stream, or a type with no Cap'n Proto form): its calls fail with <c>Unimplemented</c> over Cap'n Proto.</summary>
    public const string NoCapnpForm = "RPC0022";

    /// <summary>A DTO without a usable constructor: no public constructor whose parameters all match serialized members, and no parameterless one.</summary>
    public const string NoUsableConstructor = "RPC0023";

    /// <summary>A method with more than one <c>CancellationToken</c> parameter.</summary>
    public const string SeveralCancellationTokens = "RPC0024";

    /// <summary>A capability, stream or connection held in a local that is never disposed, returned or stored.</summary>
    public const string UndisposedResource = "RPC0025";

    /// <summary>A change to a contract that breaks the wire against the checked-in <c>RpcContracts.Shipped.txt</c>.</summary>
    public const string WireBreak = "RPC0026";

    /// <summary>A service, method or DTO member that <c>RpcContracts.Shipped.txt</c> does not list yet.</summary>
    public const string NotInBaseline = "RPC0027";

    /// <summary>A DTO whose values can hold another value of the same type (a tree or a list): only finite values travel, within the depth limit.</summary>
    public const string DtoCycle = "RPC0028";

    /// <summary>Pinned Cap'n Proto ordinals that skip numbers: the exported schema would be invalid.</summary>
    public const string CapnpOrdinalGap = "RPC0029";

    /// <summary>An unpinned method among pinned ones in a Cap'n Proto interface: it takes the lowest free ordinal, not its declaration position.</summary>
    public const string CapnpUnpinnedAmongPinned = "RPC0030";

    /// <summary><c>[RpcKnownType]</c> tags listed out of ascending order: the Cap'n Proto union follows the tags, not the source.</summary>
    public const string CapnpUnionOrder = "RPC0031";

    /// <summary>A service that pins Cap'n Proto ordinals but not its id: the derived interface id is one no existing peer knows.</summary>
    public const string CapnpDerivedInterfaceId = "RPC0032";
}
