using System.Collections.Concurrent;

namespace RpcGen.Soak;

/// <summary>
/// Counts every soak call by kind and by how it ended. A call that neither answers nor fails within
/// <see cref="CallTimeout"/> is lost; an exception the soak did not provoke is an unexpected error.
/// </summary>
public sealed class CallLedger
{
    /// <summary>Long enough for a call queued behind 10,000 others on a loaded 2-core machine.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    private const int KeptErrors = 10;

    private readonly ConcurrentDictionary<string, KindCounts> _kinds = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private long _nextId;

    /// <summary>A call id no other call of this process has.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>The first few unexpected errors and lost calls, for the report.</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    /// <summary>Counts per call kind, in the order the kinds first ran.</summary>
    public IEnumerable<(string Kind, KindCounts Counts)> Kinds => _kinds.OrderBy(k => k.Value.FirstSeen).Select(k => (k.Key, k.Value));

    public long Total(Func<KindCounts, long> field) => _kinds.Values.Sum(field);

    /// <summary>Runs one call under a fresh id and counts how it ended.</summary>
    public async Task TrackAsync(string kind, Func<long, Task<CallOutcome>> call)
    {
        var counts = _kinds.GetOrAdd(kind, _ => new KindCounts(Environment.TickCount64));
        var id = NextId();
        Interlocked.Increment(ref counts.Issued);
        try
        {
            switch (await call(id).WaitAsync(CallTimeout))
            {
                case CallOutcome.Ok:
                    Interlocked.Increment(ref counts.Ok);
                    break;
                case CallOutcome.ProvokedFailure:
                    Interlocked.Increment(ref counts.Provoked);
                    break;
                default:
                    Interlocked.Increment(ref counts.CrossTalk);
                    Keep($"{kind} #{id}: the answer did not match the request");
                    break;
            }
        }
        catch (TimeoutException)
        {
            Interlocked.Increment(ref counts.Lost);
            Keep($"{kind} #{id}: no answer and no error within {CallTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref counts.Unexpected);
            Keep($"{kind} #{id}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private void Keep(string error)
    {
        if (_errors.Count < KeptErrors)
        {
            _errors.Enqueue(error);
        }
    }

    /// <summary>One kind's counters; every call lands in exactly one of the outcome fields.</summary>
    public sealed class KindCounts(long firstSeen)
    {
        public long Issued;
        public long Ok;
        public long Provoked;
        public long CrossTalk;
        public long Lost;
        public long Unexpected;

        public long FirstSeen { get; } = firstSeen;
    }
}
