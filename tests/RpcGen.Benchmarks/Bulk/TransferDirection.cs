namespace RpcGen.Benchmarks.Bulk;

/// <summary>Which way the bytes go, seen from the client.</summary>
public enum TransferDirection
{
    Download,
    Upload,
}
