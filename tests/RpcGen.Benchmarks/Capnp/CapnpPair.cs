namespace RpcGen.Benchmarks.Capnp;

/// <summary>Who calls whom in a <c>--capnp</c> cell.</summary>
public enum CapnpPair
{
    /// <summary>Cap'n Proto through the generated binding of <see cref="IBenchNode"/>: <c>Bootstrap&lt;IBenchNode&gt;()</c> to <c>CapnpServer.Listen&lt;IBenchNode&gt;</c>, in this process.</summary>
    CSharpGenerated,

    /// <summary>Cap'n Proto, hand-written low-level client (<c>CapnpConnection</c>, <c>Capability.NewRequest</c>) to a low-level C# server (<c>ICapabilityServer</c>), in this process.</summary>
    CSharp,

    /// <summary>The message transport's generated RpcGen call (<c>RpcClient</c> to <c>RpcServer</c>), in this process.</summary>
    Message,

    /// <summary>Cap'n Proto, the generated <see cref="IBenchNode"/> proxy in this process to the C++ <c>bench-server</c>.</summary>
    CSharpGeneratedToCpp,

    /// <summary>Cap'n Proto, the low-level C# client in this process to the C++ <c>bench-server</c>.</summary>
    CSharpToCpp,

    /// <summary>Cap'n Proto, the C++ <c>bench-client</c> to the C++ <c>bench-server</c>: the reference.</summary>
    Cpp,
}

/// <summary>What one operation of a <c>--capnp</c> cell is.</summary>
public enum CapnpWorkload
{
    /// <summary>One call echoing a small struct (the five fields of <c>SmallMessage</c>).</summary>
    Echo,

    /// <summary><c>root.next().next().read()</c>, each call on the previous one's pipelined capability, only the last awaited.</summary>
    ChainPipelined,

    /// <summary>The same three calls, each awaited before the next is sent.</summary>
    ChainAwaited,

    /// <summary>
    /// Release latency: a tracked node is obtained and called, then dropped; the operation is the
    /// drop until a <c>waitDropped()</c> call sent right after returns, i.e. until the server has taken
    /// the release and disposed (C++: destroyed) the node, plus that call's round trip.
    /// </summary>
    Release,
}

/// <summary>Names for the report.</summary>
public static class CapnpNames
{
    /// <summary>The pair as the report names it.</summary>
    public static string Display(this CapnpPair pair) => pair switch
    {
        CapnpPair.CSharpGenerated => "Cap'n Proto C# → C#, generated proxy",
        CapnpPair.CSharp => "Cap'n Proto C# → C#, low-level",
        CapnpPair.Message => "message transport C# → C#",
        CapnpPair.CSharpGeneratedToCpp => "Cap'n Proto C# generated proxy → C++ server",
        CapnpPair.CSharpToCpp => "Cap'n Proto C# low-level → C++ server",
        CapnpPair.Cpp => "Cap'n Proto C++ → C++ server",
        _ => pair.ToString(),
    };

    /// <summary>The workload as the report names it.</summary>
    public static string Display(this CapnpWorkload workload) => workload switch
    {
        CapnpWorkload.Echo => "echo small struct",
        CapnpWorkload.ChainPipelined => "3-call chain, pipelined",
        CapnpWorkload.ChainAwaited => "3-call chain, awaited",
        CapnpWorkload.Release => "drop → server-side dispose",
        _ => workload.ToString(),
    };

    /// <summary>The C++ client's mode argument for <paramref name="workload"/>.</summary>
    public static string CppMode(this CapnpWorkload workload) => workload switch
    {
        CapnpWorkload.Echo => "echo",
        CapnpWorkload.ChainPipelined => "pipelined",
        CapnpWorkload.Release => "release",
        _ => "awaited",
    };
}
