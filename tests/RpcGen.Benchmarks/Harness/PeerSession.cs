namespace RpcGen.Benchmarks.Harness;

/// <summary>Runs one caller's loop against a session, recording into the given recorder.</summary>
public delegate Task CallerDriver(CallerRecorder recorder);

/// <summary>
/// One started server and one connected client of a peer over one link. Callers share the
/// connection, which is what "N concurrent callers on one connection" means.
/// </summary>
public abstract class PeerSession : IAsyncDisposable
{
    /// <summary>Why a workload this peer cannot run is missing, shown in the report in place of figures.</summary>
    public const string NotImplementedYet = "n/a — not implemented yet";

    public abstract PeerKind Peer { get; }

    public abstract LinkKind Link { get; }

    /// <summary>A driver for a unary workload; each caller gets its own. Null with a reason when the peer cannot run it.</summary>
    public abstract CallerDriver? CreateUnaryDriver(Workload workload, out string? unavailableReason);

    /// <summary>Receives <paramref name="count"/> items in one server-stream call; completes with the number received.</summary>
    public abstract Func<Task<long>>? CreateServerStream(int count, out string? unavailableReason);

    /// <summary>Uploads <paramref name="totalBytes"/> in chunks of <paramref name="chunkBytes"/>; completes with the count the server saw.</summary>
    public abstract Func<Task<long>>? CreateUpload(long totalBytes, int chunkBytes, out string? unavailableReason);

    /// <summary>Calls each unary workload once and checks the echo, so a broken peer fails loudly instead of measuring nonsense.</summary>
    public abstract Task VerifyAsync();

    /// <summary>A note shown in the report's method section (how this peer was configured).</summary>
    public virtual string? ConfigurationNote => null;

    public abstract ValueTask DisposeAsync();
}
