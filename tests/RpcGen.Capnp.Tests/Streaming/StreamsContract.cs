namespace RpcGen.Capnp.Tests.Streaming;

/// <summary>Every stream shape the Cap'n Proto binding maps: items and bytes, as results and as parameters.</summary>
[RpcService(0xd1f0_5e7a_0000_0051)]
public interface IStreams
{
    /// <summary>A streamed result of structs: <paramref name="count"/> readings.</summary>
    IAsyncEnumerable<Reading> ReadingsAsync(int count, CancellationToken cancellationToken = default);

    /// <summary>A streamed result of numbers from <paramref name="from"/>; throws after <paramref name="failAfter"/> items when it is not negative.</summary>
    IAsyncEnumerable<int> CountAsync(int from, int count, int failAfter, CancellationToken cancellationToken = default);

    /// <summary>Blocks of <paramref name="size"/> bytes until cancelled; reports to <see cref="StreamsService.Producer"/>.</summary>
    IAsyncEnumerable<byte[]> BlocksAsync(int size, CancellationToken cancellationToken = default);

    /// <summary>A streamed parameter of structs, summed up.</summary>
    Task<Summary> UploadAsync(string name, IAsyncEnumerable<Reading> readings, CancellationToken cancellationToken = default);

    /// <summary>A streamed parameter of numbers; throws after reading <paramref name="failAfter"/> of them when it is not negative.</summary>
    Task<long> SumAsync(IAsyncEnumerable<int> values, int failAfter, CancellationToken cancellationToken = default);

    /// <summary>A streamed parameter with no result: the items are kept in <see cref="StreamsService.Recorded"/>.</summary>
    Task RecordAsync(IAsyncEnumerable<int> values, CancellationToken cancellationToken = default);

    /// <summary><paramref name="length"/> bytes of <see cref="StreamsService.Pattern"/>, as a stream.</summary>
    Task<Stream> DownloadAsync(long length, CancellationToken cancellationToken = default);

    /// <summary>Reads <paramref name="content"/> to its end; returns its length and SHA-256.</summary>
    Task<string> StoreAsync(string name, Stream content, CancellationToken cancellationToken = default);
}

/// <summary>One reading of a sensor.</summary>
public sealed record Reading(int Sensor, double Value, string Label);

/// <summary>What an upload added up to.</summary>
public sealed record Summary(string Name, int Count, double Total);
