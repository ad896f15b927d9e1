namespace RpcGen.Benchmarks.Capnp;

/// <summary>Who calls whom in a <c>--capnp</c> cell.</summary>
public enum CapnpPair
{
    /// <summary>Cap'n Proto, C# client (<c>CapnpConnection</c>) to C# server (<c>CapnpServer</c>), in this process.</summary>
    CSharp,

    /// <summary>The message transport's generated RpcGen call (<c>RpcClient</c> to <c>RpcServer</c>), in this process.</summary>
    Message,

    /// <summary>Cap'n Proto, C# client in this process to the C++ <c>bench-server</c>.</summary>
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
}

/// <summary>Names for the report.</summary>
public static class CapnpNames
{
    /// <summary>The pair as the report names it.</summary>
    public static string Display(this CapnpPair pair) => pair switch
    {
        CapnpPair.CSharp => "Cap'n Proto C# → C#",
        CapnpPair.Message => "message transport C# → C#",
        CapnpPair.CSharpToCpp => "Cap'n Proto C# → C++ server",
        CapnpPair.Cpp => "Cap'n Proto C++ → C++ server",
        _ => pair.ToString(),
    };

    /// <summary>The workload as the report names it.</summary>
    public static string Display(this CapnpWorkload workload) => workload switch
    {
        CapnpWorkload.Echo => "echo small struct",
        CapnpWorkload.ChainPipelined => "3-call chain, pipelined",
        CapnpWorkload.ChainAwaited => "3-call chain, awaited",
        _ => workload.ToString(),
    };

    /// <summary>The C++ client's mode argument for <paramref name="workload"/>.</summary>
    public static string CppMode(this CapnpWorkload workload) => workload switch
    {
        CapnpWorkload.Echo => "echo",
        CapnpWorkload.ChainPipelined => "pipelined",
        _ => "awaited",
    };
}
