#pragma warning disable RPC0022 // every streaming shape: the ones that stream both ways have no Cap'n Proto form

using RpcGen;

namespace RpcGen.Generators.Tests.Contracts;

/// <summary>Every streaming shape: items and bytes, in each direction.</summary>
[RpcService]
public interface IStreams
{
    IAsyncEnumerable<int> CountAsync(int from, int to, CancellationToken cancellationToken = default);

    Task<int> SumAsync(IAsyncEnumerable<int> values, CancellationToken cancellationToken = default);

    ValueTask<string> JoinAsync(string separator, IAsyncEnumerable<Person?> people);

    Task DrainAsync(IAsyncEnumerable<string> lines);

    IAsyncEnumerable<string> PrefixAsync(IAsyncEnumerable<string> lines, string prefix, CancellationToken cancellationToken = default);

    Task<Stream> DownloadAsync(string name, int size);

    Task<long> UploadAsync(string name, Stream content, CancellationToken cancellationToken = default);

    ValueTask<Stream> ReverseAsync(Stream input);

    IAsyncEnumerable<Person?> MaybePeopleAsync(IAsyncEnumerable<string?> names);
}
