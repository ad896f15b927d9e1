using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;
using RpcGen.Benchmarks.Peers.Raw;
using RpcGen.Benchmarks.Peers.RpcGen;

namespace RpcGen.Benchmarks.Bdn;

/// <summary>
/// The foundation benchmark under BenchmarkDotNet: a unary call with the small DTO over RpcGen's
/// message transport against the raw floor over the same kind of link, for one caller and for 64
/// concurrent callers on one connection. The raw floor is each category's baseline, so the Ratio
/// column is RpcGen's cost relative to the floor; MemoryDiagnoser gives bytes per call, client and
/// server together (both run in this process). With 64 callers the coalesced raw floor is shown too:
/// it is what batching sends can reach on the same link.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class UnarySmallBenchmarks
{
    public const int Callers = 64;
    public const int CallsPerCaller = 16;

    private readonly SmallMessage _request = BenchData.CreateSmall();
    private readonly Task[] _callers = new Task[Callers];
    private RawServer? _rawServer;
    private RawClient? _raw;
    private RawServer? _coalescedServer;
    private RawClient? _coalesced;
    private RpcGenSession? _rpcGen;
    private IBenchService? _service;
    private Func<ValueTask<SmallMessage>>? _rawCall;
    private Func<ValueTask<SmallMessage>>? _coalescedCall;
    private Func<ValueTask<SmallMessage>>? _rpcGenCall;

    [Params(LinkKind.Tcp, LinkKind.Uds)]
    public LinkKind Link { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _rawServer = RawServer.Start(Link, RawSendMode.PerMessage);
        _raw = await RawClient.ConnectAsync(_rawServer.EndPoint, RawSendMode.PerMessage).ConfigureAwait(false);
        _coalescedServer = RawServer.Start(Link, RawSendMode.Coalesced);
        _coalesced = await RawClient.ConnectAsync(_coalescedServer.EndPoint, RawSendMode.Coalesced).ConfigureAwait(false);
        _rpcGen = await RpcGenSession.StartAsync(Link).ConfigureAwait(false);
        _service = _rpcGen.Service;
        var raw = _raw;
        var coalesced = _coalesced;
        var service = _service;
        _rawCall = () => raw.EchoSmallAsync(_request);
        _coalescedCall = () => coalesced.EchoSmallAsync(_request);
        _rpcGenCall = () => service.EchoSmallAsync(_request);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_raw is not null)
        {
            await _raw.DisposeAsync().ConfigureAwait(false);
        }

        if (_rawServer is not null)
        {
            await _rawServer.DisposeAsync().ConfigureAwait(false);
        }

        if (_coalesced is not null)
        {
            await _coalesced.DisposeAsync().ConfigureAwait(false);
        }

        if (_coalescedServer is not null)
        {
            await _coalescedServer.DisposeAsync().ConfigureAwait(false);
        }

        if (_rpcGen is not null)
        {
            await _rpcGen.DisposeAsync().ConfigureAwait(false);
        }
    }

    [Benchmark(Baseline = true, Description = "raw floor")]
    [BenchmarkCategory("1 caller")]
    public ValueTask<SmallMessage> RawOneCaller() => _raw!.EchoSmallAsync(_request);

    [Benchmark(Description = "RpcGen")]
    [BenchmarkCategory("1 caller")]
    public ValueTask<SmallMessage> RpcGenOneCaller() => _service!.EchoSmallAsync(_request);

    [Benchmark(Baseline = true, OperationsPerInvoke = Callers * CallsPerCaller, Description = "raw floor")]
    [BenchmarkCategory("64 callers")]
    public Task RawConcurrent() => RunConcurrentAsync(_rawCall!);

    [Benchmark(OperationsPerInvoke = Callers * CallsPerCaller, Description = "raw floor (coalesced)")]
    [BenchmarkCategory("64 callers")]
    public Task RawCoalescedConcurrent() => RunConcurrentAsync(_coalescedCall!);

    [Benchmark(OperationsPerInvoke = Callers * CallsPerCaller, Description = "RpcGen")]
    [BenchmarkCategory("64 callers")]
    public Task RpcGenConcurrent() => RunConcurrentAsync(_rpcGenCall!);

    // 64 callers each make 16 calls back to back; the per-invocation cost of starting them
    // (64 small state machines and one WhenAll) is spread over 1,024 calls and equal for both rows.
    private Task RunConcurrentAsync(Func<ValueTask<SmallMessage>> call)
    {
        for (var i = 0; i < _callers.Length; i++)
        {
            _callers[i] = CallerAsync(call);
        }

        return Task.WhenAll(_callers);
    }

    private static async Task CallerAsync(Func<ValueTask<SmallMessage>> call)
    {
        for (var i = 0; i < CallsPerCaller; i++)
        {
            await call().ConfigureAwait(false);
        }
    }
}
