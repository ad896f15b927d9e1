namespace RpcGen.Benchmarks.Harness;

/// <summary>The loopback link a measurement runs over.</summary>
public enum LinkKind
{
    /// <summary>TCP on 127.0.0.1 with Nagle off.</summary>
    Tcp,

    /// <summary>A Unix domain socket under the temp directory.</summary>
    Uds,
}
