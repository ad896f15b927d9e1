namespace RpcGen.Benchmarks.Harness;

/// <summary>What one measurement cell calls.</summary>
public enum Workload
{
    /// <summary>Unary call with no arguments and no result.</summary>
    Empty,

    /// <summary>Unary echo of <see cref="Contracts.SmallMessage"/> (the foundation benchmark's DTO).</summary>
    Small,

    /// <summary>Unary echo of the ~600-byte <see cref="Contracts.BenchmarkMessage"/>.</summary>
    Message,

    /// <summary>Unary echo of a 64 KiB byte array.</summary>
    Bytes64K,

    /// <summary>One call that streams many small items from server to client.</summary>
    ServerStream,

    /// <summary>One call that uploads a large byte stream from client to server.</summary>
    Upload,
}

/// <summary>Names and classification of <see cref="Workload"/> values for reports.</summary>
public static class WorkloadNames
{
    public static bool IsUnary(this Workload workload) => workload is Workload.Empty or Workload.Small or Workload.Message or Workload.Bytes64K;

    public static string Describe(this Workload workload) => workload switch
    {
        Workload.Empty => "unary, empty message",
        Workload.Small => "unary, small DTO",
        Workload.Message => "unary, ~600 B DTO",
        Workload.Bytes64K => "unary, 64 KiB payload",
        Workload.ServerStream => "server stream of small items",
        Workload.Upload => "upload",
        _ => workload.ToString(),
    };

    public static string ShortName(this Workload workload) => workload switch
    {
        Workload.Empty => "empty",
        Workload.Small => "small",
        Workload.Message => "600B",
        Workload.Bytes64K => "64KiB",
        Workload.ServerStream => "stream",
        Workload.Upload => "upload",
        _ => workload.ToString(),
    };
}
