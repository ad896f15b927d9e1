namespace RpcGen.Generators.Model;

/// <summary>How a method's call travels: the runtime's <c>RpcMethodKind</c>.</summary>
internal enum CallKind
{
    /// <summary>One request, one response.</summary>
    Unary,

    /// <summary>One request, no response.</summary>
    OneWay,

    /// <summary>One request, a stream of responses.</summary>
    ServerStreaming,

    /// <summary>One request and a stream of request items, one response.</summary>
    ClientStreaming,

    /// <summary>One request and a stream of request items, a stream of responses.</summary>
    DuplexStreaming,
}

/// <summary>How a streamed response is declared.</summary>
internal enum StreamWrapper
{
    /// <summary>Returned directly: <c>IAsyncEnumerable&lt;T&gt;</c>.</summary>
    None,

    /// <summary><c>Task&lt;Stream&gt;</c>.</summary>
    Task,

    /// <summary><c>ValueTask&lt;Stream&gt;</c>.</summary>
    ValueTask,
}

/// <summary>A stream of request items (a parameter) or of response items (the result).</summary>
/// <param name="Name">For a parameter: its name (escaped); for a result: empty.</param>
/// <param name="Index">For a parameter: its position among the parameters that are not the cancellation token; for a result: -1.</param>
/// <param name="DeclaredType">The declared type with annotations: <c>global::System.Collections.Generic.IAsyncEnumerable&lt;T&gt;</c> or <c>global::System.IO.Stream</c>.</param>
/// <param name="ItemKey">The <see cref="TypeSpec.Key"/> of the item type, or <c>global::System.ReadOnlyMemory&lt;byte&gt;</c> for bytes.</param>
/// <param name="ItemType">The declared item type with annotations (the same as <paramref name="ItemKey"/> for bytes).</param>
/// <param name="IsBytes">Whether the stream is a <c>System.IO.Stream</c> cut into raw chunks.</param>
/// <param name="Wrapper">For a result: how it is declared.</param>
internal sealed record StreamSpec(string Name, int Index, string DeclaredType, string ItemKey, string ItemType, bool IsBytes, StreamWrapper Wrapper)
{
    public const string BytesItem = "global::System.ReadOnlyMemory<byte>";
}
