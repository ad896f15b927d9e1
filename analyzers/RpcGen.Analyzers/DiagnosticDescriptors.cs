using Microsoft.CodeAnalysis;

namespace RpcGen.Analyzers;

/// <summary>
/// The catalogue of every diagnostic the RpcGen analyzers report. Each descriptor links to the README
/// section of its id (<c>### RPC0001 …</c>, anchor <c>#rpc0001</c>).
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "RpcGen";

    // Each id has a README section whose anchor is the lowercase id.
    private const string HelpLinkBase = "https://github.com/rpcgen/rpcgen#";

    /// <summary>
    /// <c>'{0}' is {1}; [RpcService] can only be applied to an interface</c>.
    /// Reported even when the compiler also reports CS0592, because the generator keys off the attribute.
    /// </summary>
    public static readonly DiagnosticDescriptor ServiceNotInterface = new(
        id: DiagnosticIds.ServiceNotInterface,
        title: "[RpcService] can only be applied to an interface",
        messageFormat: "'{0}' is {1}; [RpcService] can only be applied to an interface",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A service contract is an interface: the generator implements it as a client proxy and dispatches calls to an implementation of it.",
        helpLinkUri: HelpLinkBase + "rpc0001",
        customTags: []);

    /// <summary><c>Service '{0}' has type parameters ({1}); a service interface must not be generic or nested in a generic type</c>.</summary>
    public static readonly DiagnosticDescriptor GenericService = new(
        id: DiagnosticIds.GenericService,
        title: "A service interface must not be generic",
        messageFormat: "Service '{0}' has type parameters ({1}); a service interface must not be generic or nested in a generic type",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A service has one id and one set of method ids on the wire, so it cannot be instantiated over type arguments.",
        helpLinkUri: HelpLinkBase + "rpc0002",
        customTags: []);

    /// <summary><c>Method '{0}' is generic; a service method must not have type parameters</c>.</summary>
    public static readonly DiagnosticDescriptor GenericMethod = new(
        id: DiagnosticIds.GenericMethod,
        title: "A service method must not be generic",
        messageFormat: "Method '{0}' is generic; a service method must not have type parameters",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The wire format of every argument and result is fixed at compile time, so a method cannot be instantiated over type arguments.",
        helpLinkUri: HelpLinkBase + "rpc0003",
        customTags: []);

    /// <summary><c>Parameter '{0}' of '{1}' is passed by '{2}'; service method parameters must be passed by value</c>.</summary>
    public static readonly DiagnosticDescriptor ByRefParameter = new(
        id: DiagnosticIds.ByRefParameter,
        title: "A service method parameter must be passed by value",
        messageFormat: "Parameter '{0}' of '{1}' is passed by '{2}'; service method parameters must be passed by value",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Arguments are copied into a message, so a callee cannot write back to a caller's variable. Return the values in a result type instead. 'params' arrays are allowed: they travel as ordinary arrays.",
        helpLinkUri: HelpLinkBase + "rpc0004",
        customTags: []);

    /// <summary><c>Method '{0}' returns '{1}'; a service method must return Task, Task&lt;T&gt;, ValueTask, ValueTask&lt;T&gt; or IAsyncEnumerable&lt;T&gt; (void only with [OneWay])</c>.</summary>
    public static readonly DiagnosticDescriptor UnsupportedReturnType = new(
        id: DiagnosticIds.UnsupportedReturnType,
        title: "A service method must return a task or an async stream",
        messageFormat: "Method '{0}' returns '{1}'; a service method must return Task, Task<T>, ValueTask, ValueTask<T>, IAsyncEnumerable<T> or an [RpcService] interface (void only with [OneWay])",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A remote call completes later than it starts, so every two-way service method is asynchronous: it returns a task, or streams its results as IAsyncEnumerable<T> (Task<Stream> and ValueTask<Stream> stream raw bytes).",
        helpLinkUri: HelpLinkBase + "rpc0005",
        customTags: []);

    /// <summary><c>One-way method '{0}' returns '{1}'; a [OneWay] method must return void or ValueTask</c>.</summary>
    public static readonly DiagnosticDescriptor InvalidOneWayReturn = new(
        id: DiagnosticIds.InvalidOneWayReturn,
        title: "A [OneWay] method must return void or ValueTask",
        messageFormat: "One-way method '{0}' returns '{1}'; a [OneWay] method must return void or ValueTask",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A one-way call gets no reply, so it cannot return a value; its ValueTask only says that the request was handed to the transport.",
        helpLinkUri: HelpLinkBase + "rpc0006",
        customTags: []);

    /// <summary><c>Parameter '{0}' of '{1}' is a CancellationToken that is not the last parameter; a service method takes at most one CancellationToken, as its last parameter</c>.</summary>
    public static readonly DiagnosticDescriptor MisplacedCancellationToken = new(
        id: DiagnosticIds.MisplacedCancellationToken,
        title: "A CancellationToken must be the last parameter",
        messageFormat: "Parameter '{0}' of '{1}' is a CancellationToken that is not the last parameter; a service method takes at most one CancellationToken, as its last parameter",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The cancellation token is not sent as an argument: it becomes remote cancellation of the call, and the method id leaves it out.",
        helpLinkUri: HelpLinkBase + "rpc0007",
        customTags: []);

    /// <summary>
    /// <c>{0}: {1}</c>, where <c>{0}</c> is the path to the offending type (<c>Order.Customer.Callback</c>) and
    /// <c>{1}</c> the reason. An <c>[RpcService]</c> interface travels by reference and is only reported when it
    /// comes from an assembly the generator did not run for. The items of a streamed parameter or result are walked like any value (path <c>IAsyncEnumerable&lt;Order&gt;[]</c>).
    /// </summary>
    public static readonly DiagnosticDescriptor UnserializableType = new(
        id: DiagnosticIds.UnserializableType,
        title: "A type in a service signature cannot be serialized",
        messageFormat: "{0}: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Every parameter, result, stream item and DTO member reachable from a service method must have a wire format: builtin types, enums, nullable values, arrays, lists, dictionaries, DTOs and [RpcKnownType] hierarchies; an [RpcService] interface travels by reference. Streams (IAsyncEnumerable<T>, Stream) travel only as a parameter or the result of a method, never inside a value.",
        helpLinkUri: HelpLinkBase + "rpc0008",
        customTags: []);

    /// <summary><c>Method '{0}' has {1}, the same as '{2}' in service '{3}'; method ids must be unique within a service</c>.</summary>
    public static readonly DiagnosticDescriptor DuplicateMethodId = new(
        id: DiagnosticIds.DuplicateMethodId,
        title: "Two methods of a service have the same id",
        messageFormat: "Method '{0}' has {1}, the same as '{2}' in service '{3}'; {4}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The dispatcher finds a method by its id. Pin distinct ordinals with [RpcMethod], or rename one of the methods. Overloads that differ only by a CancellationToken always collide, since the token is not part of the id: keep one, with an optional token.",
        helpLinkUri: HelpLinkBase + "rpc0009",
        customTags: []);

    /// <summary><c>Service '{0}' has {1}, the same as service '{2}'; service ids must be unique</c>.</summary>
    public static readonly DiagnosticDescriptor DuplicateServiceId = new(
        id: DiagnosticIds.DuplicateServiceId,
        title: "Two services have the same id",
        messageFormat: "Service '{0}' has {1}, the same as service '{2}'; service ids must be unique",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A server finds a service by its id. Pin a distinct id with [RpcService(id)].",
        helpLinkUri: HelpLinkBase + "rpc0010",
        customTags: [WellKnownDiagnosticTags.CompilationEnd]);

    /// <summary><c>{0} is out of range: {1}</c>, e.g. <c>Ordinal -1 of 'ICalc.Add' is out of range: pinned ordinals go from 0 to 2147483647</c>.</summary>
    public static readonly DiagnosticDescriptor OutOfRange = new(
        id: DiagnosticIds.OutOfRange,
        title: "A pinned id, ordinal, position or tag is out of range",
        messageFormat: "{0} is out of range: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Service ids are non-zero (zero means 'derive the id from the name'); method ordinals, DTO member positions and known-type tags are non-negative.",
        helpLinkUri: HelpLinkBase + "rpc0011",
        customTags: []);

    /// <summary><c>[RpcKnownType] on '{0}': {1}</c>.</summary>
    public static readonly DiagnosticDescriptor InvalidKnownType = new(
        id: DiagnosticIds.InvalidKnownType,
        title: "An [RpcKnownType] subtype is invalid or repeated",
        messageFormat: "[RpcKnownType] on '{0}': {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Each known subtype derives from (or implements) the attributed type, and appears once with a tag no other subtype uses.",
        helpLinkUri: HelpLinkBase + "rpc0012",
        customTags: []);

    /// <summary><c>Member '{0}' has [RpcMember] position {1}, the same as '{2}'; positions must be unique within a type</c>.</summary>
    public static readonly DiagnosticDescriptor DuplicateMemberPosition = new(
        id: DiagnosticIds.DuplicateMemberPosition,
        title: "Two DTO members have the same [RpcMember] position",
        messageFormat: "Member '{0}' has [RpcMember] position {1}, the same as '{2}'; positions must be unique within a type",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A DTO is written as an array whose slots are the members' positions; two members cannot share a slot.",
        helpLinkUri: HelpLinkBase + "rpc0013",
        customTags: []);

    /// <summary><c>'{0}' is {1}; only instance methods can be part of a service</c>.</summary>
    public static readonly DiagnosticDescriptor NotAnInstanceMethod = new(
        id: DiagnosticIds.NotAnInstanceMethod,
        title: "Only instance methods can be part of a service",
        messageFormat: "'{0}' is {1}; only instance methods can be part of a service",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The proxy turns each abstract instance method into a remote call; abstract properties, events and indexers, and static abstract or virtual members, have no remote form. Default-implemented members and static helpers are inherited by the proxy and are allowed.",
        helpLinkUri: HelpLinkBase + "rpc0014",
        customTags: []);

    /// <summary><c>Service '{0}' is not accessible to generated code; the interface and every type that contains it must be public or internal</c>.</summary>
    public static readonly DiagnosticDescriptor InaccessibleService = new(
        id: DiagnosticIds.InaccessibleService,
        title: "A service interface must be accessible to generated code",
        messageFormat: "Service '{0}' is not accessible to generated code; the interface and every type that contains it must be public or internal",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The generator writes the proxy and the dispatcher as top-level classes of the service's assembly, so they can only implement and name an interface that is public or internal.",
        helpLinkUri: HelpLinkBase + "rpc0015",
        customTags: []);

    /// <summary>
    /// <c>Method '{0}' {1}</c>, where <c>{1}</c> says what no call can carry, e.g.
    /// <c>Method 'IFiles.CopyAsync' streams more than one parameter ('source' and 'target'); a call carries at most one request stream</c>.
    /// </summary>
    public static readonly DiagnosticDescriptor InvalidStream = new(
        id: DiagnosticIds.InvalidStream,
        title: "A streaming method has a shape no call can carry",
        messageFormat: "Method '{0}' {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A call streams its requests through at most one IAsyncEnumerable<T> or Stream parameter, and its responses by returning IAsyncEnumerable<T>, Task<Stream> or ValueTask<Stream>. A [OneWay] call gets no reply and has no flow control, so it cannot stream.",
        helpLinkUri: HelpLinkBase + "rpc0016",
        customTags: []);

    /// <summary>
    /// <c>{0}: '{1}' {2}, so its value would never arrive; make it settable or init, take it in the constructor, or mark it [RpcIgnore]</c>,
    /// e.g. <c>Order.Total: 'Order.Total' has a private setter, …</c>.
    /// </summary>
    public static readonly DiagnosticDescriptor UnsettableMember = new(
        id: DiagnosticIds.UnsettableMember,
        title: "A DTO member holds state the serializer cannot set",
        messageFormat: "{0}: '{1}' {2}, so its value would never arrive; make it settable or init, take it in the constructor, or mark it [RpcIgnore]",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Every public field and every public property with state is serialized. Generated code rebuilds a DTO through its constructor and public setters or init accessors, so a member it cannot set would be sent and lost. Computed get-only properties hold no state and are not serialized.",
        helpLinkUri: HelpLinkBase + "rpc0017",
        customTags: []);

    /// <summary><c>{0}: {1}</c>, e.g. <c>Label.Text: formatter 'Acme.UpperCase' does not implement IRpcFormatter&lt;string&gt;</c>.</summary>
    public static readonly DiagnosticDescriptor InvalidFormatter = new(
        id: DiagnosticIds.InvalidFormatter,
        title: "An [RpcUseFormatter] names a formatter generated code cannot use",
        messageFormat: "{0}: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A formatter named with [RpcUseFormatter] implements IRpcFormatter<T> for the exact type it formats and is a concrete class with a public or internal parameterless constructor, which generated code calls once.",
        helpLinkUri: HelpLinkBase + "rpc0018",
        customTags: []);

    /// <summary><c>'{0}' blocks a thread on the remote call '{1}'; await it instead</c>.</summary>
    public static readonly DiagnosticDescriptor BlockingCall = new(
        id: DiagnosticIds.BlockingCall,
        title: "Do not block on a remote call",
        messageFormat: "'{0}' blocks a thread on the remote call '{1}'; await it instead",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Blocking on the task of a proxy or callback call holds a thread for a whole round trip; inside a handler that runs on the connection's reader (inline execution) the answer can never be read, and the connection deadlocks.",
        helpLinkUri: HelpLinkBase + "rpc0019",
        customTags: []);

    /// <summary><c>[OneWay] method '{0}' takes CancellationToken '{1}', which nothing can cancel: a one-way call is sent at once and gets no reply</c>.</summary>
    public static readonly DiagnosticDescriptor OneWayCancellation = new(
        id: DiagnosticIds.OneWayCancellation,
        title: "A one-way method's CancellationToken cancels nothing",
        messageFormat: "[OneWay] method '{0}' takes CancellationToken '{1}', which nothing can cancel: a one-way call is sent at once and gets no reply",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A one-way call is handed to the transport at once and no reply comes back, so the caller's token is never sent and cancels nothing on either side. Remove it, or drop [OneWay] to get a reply and remote cancellation.",
        helpLinkUri: HelpLinkBase + "rpc0020",
        customTags: []);

    /// <summary><c>{0}: interface '{1}' is not an [RpcService]; mark it [RpcService] to pass it by reference (a callback the peer calls), or use a DTO or a base with [RpcKnownType] subtypes</c>.</summary>
    public static readonly DiagnosticDescriptor InterfaceNotService = new(
        id: DiagnosticIds.InterfaceNotService,
        title: "An interface in a contract is not an [RpcService]",
        messageFormat: "{0}: interface '{1}' is not an [RpcService]; mark it [RpcService] to pass it by reference (a callback the peer calls), or use a DTO or a base with [RpcKnownType] subtypes",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "An interface travels either by reference, as a capability the peer calls back (it must be an [RpcService]), or by value as a base with [RpcKnownType] subtypes. Any other interface has no wire form.",
        helpLinkUri: HelpLinkBase + "rpc0021",
        customTags: []);

    /// <summary><c>Method '{0}' has no Cap'n Proto form ({1}): over Cap'n Proto its calls fail with Unimplemented; it works on the message transport</c>.</summary>
    public static readonly DiagnosticDescriptor NoCapnpForm = new(
        id: DiagnosticIds.NoCapnpForm,
        title: "A service method has no Cap'n Proto form",
        messageFormat: "Method '{0}' has no Cap'n Proto form ({1}): over Cap'n Proto its calls fail with Unimplemented; it works on the message transport",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Reported when the project references the capability transport. A method that streams both ways, or whose parameters, result or stream items hold a type with no Cap'n Proto form (see the README's type table), is left off the Cap'n Proto binding: it keeps its ordinal in the schema and every call of it over Cap'n Proto fails with Unimplemented and the reason. The other methods keep the binding, and the message transport carries every method.",
        helpLinkUri: HelpLinkBase + "rpc0022",
        customTags: []);

    /// <summary><c>{0}: DTO '{1}' has no usable constructor: no public constructor takes only its serialized members (matched by name, ignoring case, and type), and none is parameterless; add one whose parameters are named after its members</c>.</summary>
    public static readonly DiagnosticDescriptor NoUsableConstructor = new(
        id: DiagnosticIds.NoUsableConstructor,
        title: "A DTO has no usable constructor",
        messageFormat: "{0}: DTO '{1}' has no usable constructor: no public constructor takes only its serialized members (matched by name, ignoring case, and type), and none is parameterless; add one whose parameters are named after its members",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Generated code rebuilds a DTO on the receiving side through its public constructor whose parameters all match serialized members (the one with most parameters), or a public parameterless one, then sets the other members. A record with a primary constructor always has one.",
        helpLinkUri: HelpLinkBase + "rpc0023",
        customTags: []);

    /// <summary><c>Method '{0}' takes a second CancellationToken '{1}'; a call has one cancellation, carried by '{2}'</c>.</summary>
    public static readonly DiagnosticDescriptor SeveralCancellationTokens = new(
        id: DiagnosticIds.SeveralCancellationTokens,
        title: "A service method takes more than one CancellationToken",
        messageFormat: "Method '{0}' takes a second CancellationToken '{1}'; a call has one cancellation, carried by '{2}'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A remote call is cancelled as a whole: the caller's token sends one cancel, and the handler gets one token. A second token has nothing to cancel and no wire form. Remove it (combine tokens on the caller's side with CancellationTokenSource.CreateLinkedTokenSource).",
        helpLinkUri: HelpLinkBase + "rpc0024",
        customTags: []);

    /// <summary><c>'{0}' holds {1} and is never disposed, returned or stored; dispose it (await using) so the peer's resources behind it are released</c>.</summary>
    public static readonly DiagnosticDescriptor UndisposedResource = new(
        id: DiagnosticIds.UndisposedResource,
        title: "A capability, stream or connection is never disposed",
        messageFormat: "'{0}' holds {1} and is never disposed, returned or stored; dispose it (await using) so the resources behind it are released",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A capability received from a call keeps the peer's object exported until it is released, a downloaded Stream keeps its call open, and a client, connection or server keeps a socket. A local holding one that is only called and then dropped leaves the release to the garbage collector, or to the end of the connection. Passing it on, storing, returning or capturing it counts as handing it over and is not reported.",
        helpLinkUri: HelpLinkBase + "rpc0025",
        customTags: []);

    /// <summary>
    /// <c>{0} breaks the shipped wire contract (RpcContracts.Shipped.txt line {1}): {2}</c>, e.g.
    /// <c>Method 'Shop.IInventory.GetAsync' breaks … line 2): its parameters were (int) and are now (long)</c>.
    /// </summary>
    public static readonly DiagnosticDescriptor WireBreak = new(
        id: DiagnosticIds.WireBreak,
        title: "A contract change breaks the shipped wire contract",
        messageFormat: "{0} breaks the shipped wire contract (RpcContracts.Shipped.txt line {1}): {2}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "RpcContracts.Shipped.txt lists the services, methods and DTO members a project has shipped. Peers built against it find a method by its id and read a DTO member by its position, so removing a method or member, changing an id or a pinned ordinal, a parameter, result or member type, or moving an unpinned member breaks them. Adding a method or appending a member does not. To ship a break deliberately, edit the line in the file.",
        helpLinkUri: HelpLinkBase + "rpc0026",
        customTags: []);

    /// <summary><c>Service '{0}' has {1} wire contract {2} not in RpcContracts.Shipped.txt; add {3} when this version ships</c>.</summary>
    public static readonly DiagnosticDescriptor NotInBaseline = new(
        id: DiagnosticIds.NotInBaseline,
        title: "A contract is not in the shipped wire contract yet",
        messageFormat: "Service '{0}' has {1} wire contract {2} not in RpcContracts.Shipped.txt; add {3} when this version ships",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        description: "A new service, an added method or an appended DTO member is compatible, but it is only protected against later breaks once RpcContracts.Shipped.txt lists it. The code fix appends the missing lines.",
        helpLinkUri: HelpLinkBase + "rpc0027",
        customTags: []);

    /// <summary><c>DTO '{0}' can hold itself ({1}): only finite values travel, nested at most RpcSerializer.MaxDepth (64) levels (Cap'n Proto: CapnpReaderOptions.NestingLimit, 64)</c>.</summary>
    public static readonly DiagnosticDescriptor DtoCycle = new(
        id: DiagnosticIds.DtoCycle,
        title: "A DTO can hold a value of its own type",
        messageFormat: "DTO '{0}' can hold itself ({1}): only finite values travel, nested at most RpcSerializer.MaxDepth (64) levels (Cap'n Proto: CapnpReaderOptions.NestingLimit, 64)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        description: "A recursive DTO (a tree, a linked list, an expression) is serialized by value, member by member: an object graph that loops back on itself cannot be sent, and the receiver fails a call whose payload nests deeper than its depth limit with InvalidPayload. Keep values finite and shallow, or send the structure flattened (a list of nodes with parent indexes).",
        helpLinkUri: HelpLinkBase + "rpc0028",
        customTags: []);

    /// <summary><c>Method '{0}' pins Cap'n Proto ordinal {1}, but interface '{2}' has {3}, leaving {4} unused; capnp compile rejects an interface whose ordinals skip numbers</c>.</summary>
    public static readonly DiagnosticDescriptor CapnpOrdinalGap = new(
        id: DiagnosticIds.CapnpOrdinalGap,
        title: "Pinned Cap'n Proto ordinals skip numbers",
        messageFormat: "Method '{0}' pins Cap'n Proto ordinal {1}, but interface '{2}' has {3}, leaving {4} unused; capnp compile rejects an interface whose ordinals skip numbers",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Reported when the project references the capability transport. A Cap'n Proto interface numbers its methods 0 to n-1 with no gaps; an exported schema with a gap does not compile, so C++, Rust or Go peers cannot be generated from it. Calls over RpcGen still work. Renumber the pins, or add the missing methods.",
        helpLinkUri: HelpLinkBase + "rpc0029",
        customTags: []);

    /// <summary><c>Method '{0}' has no [RpcMethod] while other methods of '{1}' do: on Cap'n Proto it takes ordinal @{2}, the lowest one still free, whatever its declaration position ({3}); pin it</c>.</summary>
    public static readonly DiagnosticDescriptor CapnpUnpinnedAmongPinned = new(
        id: DiagnosticIds.CapnpUnpinnedAmongPinned,
        title: "An unpinned method among pinned Cap'n Proto ordinals",
        messageFormat: "Method '{0}' has no [RpcMethod] while other methods of '{1}' do: on Cap'n Proto it takes ordinal @{2}, the lowest one still free, whatever its declaration position ({3}); pin it",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Reported when the project references the capability transport. Pinned ordinals stay where they are and each unpinned method takes the lowest ordinal still free, in declaration order, so adding or moving a pin silently renumbers the unpinned methods and breaks existing Cap'n Proto peers. Pin every method (the code fix pins each one at the ordinal it has today).",
        helpLinkUri: HelpLinkBase + "rpc0030",
        customTags: []);

    /// <summary><c>[RpcKnownType] on '{0}': '{1}' (tag {2}) is listed after '{3}' (tag {4}); the Cap'n Proto union orders its members by tag, so list them in tag order</c>.</summary>
    public static readonly DiagnosticDescriptor CapnpUnionOrder = new(
        id: DiagnosticIds.CapnpUnionOrder,
        title: "Known-type tags are out of declaration order",
        messageFormat: "[RpcKnownType] on '{0}': '{1}' (tag {2}) is listed after '{3}' (tag {4}); the Cap'n Proto union orders its members by tag, so list them in tag order",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Reported when the project references the capability transport. A base with [RpcKnownType] subtypes becomes a Cap'n Proto struct with an unnamed union whose members, and so their discriminants 0, 1, 2…, follow the tags in ascending order. Listing the attributes in another order makes the source disagree with the schema a peer sees; adding a subtype with a tag below an existing one renumbers the discriminants after it.",
        helpLinkUri: HelpLinkBase + "rpc0031",
        customTags: []);

    /// <summary><c>Service '{0}' pins Cap'n Proto ordinals but not its id: {1} is derived from its name; existing Cap'n Proto peers will not recognize it</c>.</summary>
    public static readonly DiagnosticDescriptor CapnpDerivedInterfaceId = new(
        id: DiagnosticIds.CapnpDerivedInterfaceId,
        title: "A Cap'n Proto interface id is derived",
        messageFormat: "Service '{0}' pins Cap'n Proto ordinals but not its id: {1} is derived from its name; existing Cap'n Proto peers will not recognize it",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        description: "Reported when the project references the capability transport. Pinned ordinals usually mean the contract matches an existing schema, but a call names its interface by id, and an unpinned id is derived from the C# name (top bit set): a peer built from the existing schema sends that schema's id, which this service does not answer. Pin the schema's id with [RpcService(0x…)].",
        helpLinkUri: HelpLinkBase + "rpc0032",
        customTags: []);
}
