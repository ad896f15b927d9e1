namespace RpcGen.Fuzz;

/// <summary>
/// The bootstrap the <c>capnp-rpc</c> harness serves: calls that return capabilities (exports), take
/// them (imports), call them back (questions from the server) and wait (answers left open), so a
/// hostile message meets all four tables populated.
/// </summary>
[RpcService(0x6675_7a7a_7661_7401)]
public interface IFuzzVat
{
    /// <summary>A child object, passed back by reference.</summary>
    Task<IFuzzVat> ChildAsync(string name);

    /// <summary>This object's name.</summary>
    Task<string> NameAsync();

    /// <summary>Calls <paramref name="visitor"/> <paramref name="count"/> times, one after another, and returns how many answered.</summary>
    Task<int> VisitAsync(IFuzzVisitor visitor, int count);

    /// <summary>Keeps <paramref name="visitor"/> (an import that outlives the call).</summary>
    Task HoldAsync(IFuzzVisitor visitor);

    /// <summary>Completes only when cancelled: an answer the peer leaves open.</summary>
    Task WaitAsync(CancellationToken cancellationToken);
}

/// <summary>A capability the peer of the <c>capnp-rpc</c> harness passes in and the server calls back.</summary>
[RpcService(0x6675_7a7a_7661_7402)]
public interface IFuzzVisitor
{
    /// <summary>One visit.</summary>
    Task VisitAsync(int index);
}

/// <summary>The streaming methods the <c>message-streams</c> harness serves: every stream shape, all credit-controlled.</summary>
[RpcService(0x6675_7a7a_7374_7201)]
public interface IFuzzStreams
{
    /// <summary>Sends <paramref name="count"/> numbers to the caller.</summary>
    IAsyncEnumerable<int> CountAsync(int count, CancellationToken cancellationToken = default);

    /// <summary>Sums what the caller sends.</summary>
    Task<long> SumAsync(IAsyncEnumerable<int> values, CancellationToken cancellationToken = default);

    /// <summary>Sends each item back doubled, as it arrives.</summary>
    IAsyncEnumerable<int> DoubleAsync(IAsyncEnumerable<int> values, CancellationToken cancellationToken = default);
}
