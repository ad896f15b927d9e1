using System.Runtime.CompilerServices;
using System.Text;
using RpcGen.Generators.Tests.Contracts;
using RpcGen.Generators.Tests.Infrastructure;

namespace RpcGen.Generators.Tests;

/// <summary>Streaming methods: the generated proxy and dispatcher agree on every shape, for items and for bytes.</summary>
public class StreamingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private sealed class Streams : IStreams
    {
        public CancellationToken LastToken { get; private set; }

        public async IAsyncEnumerable<int> CountAsync(int from, int to, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            LastToken = cancellationToken;
            for (var i = from; i <= to; i++)
            {
                await Task.Yield();
                yield return i;
            }
        }

        public async Task<int> SumAsync(IAsyncEnumerable<int> values, CancellationToken cancellationToken = default)
        {
            var sum = 0;
            await foreach (var value in values.WithCancellation(cancellationToken))
            {
                sum += value;
            }

            return sum;
        }

        public async ValueTask<string> JoinAsync(string separator, IAsyncEnumerable<Person?> people)
        {
            var names = new List<string>();
            await foreach (var person in people)
            {
                names.Add(person?.Name ?? "nobody");
            }

            return string.Join(separator, names);
        }

        public List<string> Drained { get; } = [];

        public async Task DrainAsync(IAsyncEnumerable<string> lines)
        {
            await foreach (var line in lines)
            {
                Drained.Add(line);
            }
        }

        public async IAsyncEnumerable<string> PrefixAsync(IAsyncEnumerable<string> lines, string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var line in lines.WithCancellation(cancellationToken))
            {
                if (line == "boom")
                {
                    throw new InvalidOperationException("bad line");
                }

                yield return prefix + line;
            }
        }

        public Task<Stream> DownloadAsync(string name, int size) =>
            Task.FromResult<Stream>(new MemoryStream([.. Enumerable.Range(0, size).Select(i => (byte)(i * 7 + name.Length))]));

        public async Task<long> UploadAsync(string name, Stream content, CancellationToken cancellationToken = default)
        {
            using var copy = new MemoryStream();
            await content.CopyToAsync(copy, cancellationToken);
            return copy.Length + name.Length;
        }

        public async ValueTask<Stream> ReverseAsync(Stream input)
        {
            using var copy = new MemoryStream();
            await input.CopyToAsync(copy);
            var bytes = copy.ToArray();
            Array.Reverse(bytes);
            return new MemoryStream(bytes);
        }

        public async IAsyncEnumerable<Person?> MaybePeopleAsync(IAsyncEnumerable<string?> names)
        {
            await foreach (var name in names)
            {
                yield return name is null ? null : new Person(name, name.Length);
            }
        }
    }

    private static (IStreams Proxy, Streams Implementation) Connect()
    {
        var implementation = new Streams();
        return (new LoopbackChannel(RpcServiceRegistry.CreateDispatcher<IStreams>(implementation)).GetService<IStreams>(), implementation);
    }

    private static async IAsyncEnumerable<T> Items<T>(params T[] items)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            yield return item;
        }
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    [Fact]
    public void DescriptorsCarryTheStreamingKinds()
    {
        Assert.Equal(RpcMethodKind.ServerStreaming, StreamsRpc.CountAsync.Kind);
        Assert.Equal(RpcMethodKind.ClientStreaming, StreamsRpc.SumAsync.Kind);
        Assert.Equal(RpcMethodKind.ClientStreaming, StreamsRpc.DrainAsync.Kind);
        Assert.Equal(RpcMethodKind.DuplexStreaming, StreamsRpc.PrefixAsync.Kind);
        Assert.Equal(RpcMethodKind.ServerStreaming, StreamsRpc.DownloadAsync.Kind);
        Assert.Equal(RpcMethodKind.ClientStreaming, StreamsRpc.UploadAsync.Kind);
        Assert.Equal(RpcMethodKind.DuplexStreaming, StreamsRpc.ReverseAsync.Kind);
        Assert.Same(Serialization.RawBytesFormatter.Instance, StreamsRpc.DownloadAsync.ResponseFormatter);
        Assert.Same(Serialization.RawBytesFormatter.Instance, StreamsRpc.UploadAsync.RequestItemFormatter);
    }

    [Fact]
    public async Task ServerStreamsItems()
    {
        var (proxy, implementation) = Connect();
        using var cancellation = new CancellationTokenSource();

        var items = await ToListAsync(proxy.CountAsync(3, 6, cancellation.Token)).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal([3, 4, 5, 6], items);
        Assert.True(implementation.LastToken.CanBeCanceled);
    }

    [Fact]
    public async Task ClientStreamsItems()
    {
        var (proxy, implementation) = Connect();

        Assert.Equal(10, await proxy.SumAsync(Items(1, 2, 3, 4)).WaitAsync(Timeout, TestContext.Current.CancellationToken));
        Assert.Equal("Ada+nobody+Bob", await proxy.JoinAsync("+", Items<Person?>(new Person("Ada", 1), null, new Person("Bob", 2))).AsTask().WaitAsync(Timeout, TestContext.Current.CancellationToken));
        await proxy.DrainAsync(Items("x", "y")).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(["x", "y"], implementation.Drained);
    }

    [Fact]
    public async Task DuplexStreamsItemsBothWaysWithTheStreamParameterFirst()
    {
        var (proxy, _) = Connect();

        var lines = await ToListAsync(proxy.PrefixAsync(Items("a", "b"), "> ")).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(["> a", "> b"], lines);
    }

    [Fact]
    public async Task AnnotatedItemTypesStreamNulls()
    {
        var (proxy, _) = Connect();

        var people = await ToListAsync(proxy.MaybePeopleAsync(Items<string?>("ab", null))).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal([new Person("ab", 2), null], people);
    }

    [Fact]
    public async Task StreamFailureReachesTheCaller()
    {
        var (proxy, _) = Connect();

        var error = await Assert.ThrowsAsync<RpcException>(() => ToListAsync(proxy.PrefixAsync(Items("a", "boom"), "> ")));

        Assert.Equal(RpcStatusCode.Failed, error.StatusCode);
        Assert.Equal("bad line", error.Message);
    }

    [Fact]
    public async Task DownloadsAStream()
    {
        var (proxy, _) = Connect();

        await using var stream = await proxy.DownloadAsync("abc", 200_000).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7 + 3)), copy.ToArray());
    }

    [Fact]
    public async Task UploadsAStream()
    {
        var (proxy, _) = Connect();

        var length = await proxy.UploadAsync("abc", new MemoryStream(new byte[150_000]), TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(150_003, length);
    }

    [Fact]
    public async Task StreamsBytesBothWays()
    {
        var (proxy, _) = Connect();

        await using var reversed = await proxy.ReverseAsync(new MemoryStream(Encoding.UTF8.GetBytes("hello"))).AsTask().WaitAsync(Timeout, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(reversed);

        Assert.Equal("olleh", await reader.ReadToEndAsync(TestContext.Current.CancellationToken));
    }
}
