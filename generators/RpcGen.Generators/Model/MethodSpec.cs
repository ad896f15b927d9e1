using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Model;

/// <summary>One method of a service.</summary>
/// <param name="Name">The method name as declared (escaped if it is a keyword).</param>
/// <param name="MemberName">The unique name of the descriptor field within the service (overloads get a suffix); the request envelope is <c>{MemberName}Request</c>.</param>
/// <param name="DeclaringInterface">The interface that declares the method (the service or one of its bases), fully qualified.</param>
/// <param name="Id">The method id on the wire.</param>
/// <param name="ReturnShape">How the method returns, as <c>RpcContractRules.ClassifyReturn</c> sees it; ignored when <paramref name="ResponseStream"/> is set (an <c>IAsyncEnumerable&lt;T&gt;</c> result classifies as unsupported there).</param>
/// <param name="IsOneWay">Whether the method is <c>[OneWay]</c>.</param>
/// <param name="ReturnType">The declared return type, fully qualified with nullable annotations.</param>
/// <param name="ResultType">The <c>T</c> of <c>Task&lt;T&gt;</c>/<c>ValueTask&lt;T&gt;</c> with annotations, else null.</param>
/// <param name="ResultKey">The <see cref="TypeSpec.Key"/> of the result, else null.</param>
/// <param name="Parameters">The parameters that travel, in order (the cancellation token excluded).</param>
/// <param name="CancellationTokenName">The name of the trailing <c>CancellationToken</c> parameter, or null.</param>
/// <param name="Kind">How the call travels.</param>
/// <param name="RequestStream">The parameter that streams request items, or null.</param>
/// <param name="ResponseStream">The streamed result, or null.</param>
/// <param name="CapnpInterfaceId">On the capability transport: the id of the interface the method belongs to (the declaring <c>[RpcService]</c>, else the service).</param>
/// <param name="CapnpOrdinal">On the capability transport: the method's ordinal in that interface, pinned by <c>[RpcMethod]</c> or its place in declaration order.</param>
/// <param name="IsIdempotent">Whether the method is <c>[Idempotent]</c> (a reconnecting client may re-send it once).</param>
/// <param name="AuthorizationPolicies">The <c>[RpcAuthorize]</c> policies a call must pass: the service interface's, then the method's, without repeats.</param>
internal sealed record MethodSpec(
    string Name,
    string MemberName,
    string DeclaringInterface,
    uint Id,
    ReturnShape ReturnShape,
    bool IsOneWay,
    string ReturnType,
    string? ResultType,
    string? ResultKey,
    EquatableArray<ParameterSpec> Parameters,
    string? CancellationTokenName,
    CallKind Kind = CallKind.Unary,
    StreamSpec? RequestStream = null,
    StreamSpec? ResponseStream = null,
    ulong CapnpInterfaceId = 0,
    int CapnpOrdinal = 0,
    bool IsIdempotent = false,
    EquatableArray<string> AuthorizationPolicies = default)
{
    /// <summary>Whether the descriptor is an <c>RpcStreamingMethod</c> rather than an <c>RpcMethod</c>.</summary>
    public bool IsStreaming => Kind is CallKind.ServerStreaming or CallKind.ClientStreaming or CallKind.DuplexStreaming;

    /// <summary>The name of the request envelope struct, or null when the method takes no parameters (it then sends <c>RpcVoid</c>).</summary>
    public string? RequestType => Parameters.Count == 0 ? null : MemberName + "Request";
}
