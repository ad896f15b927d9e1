using System.Diagnostics;

namespace RpcGen.Transport.Message.Tests;

/// <summary>A service that reports the metadata and trace context it saw, and sends trailers back.</summary>
[RpcService(0x5E57_0000_0000_0020)]
public interface IMetadataService
{
    /// <summary>The text request header named <paramref name="key"/>, or null.</summary>
    [RpcMethod(1)]
    Task<string?> HeaderAsync(string key);

    /// <summary>The binary request header named <paramref name="key"/>, or null.</summary>
    [RpcMethod(2)]
    Task<byte[]?> BinaryHeaderAsync(string key);

    /// <summary>Adds a trailer, then answers with <paramref name="result"/> or, when <paramref name="fail"/>, an error.</summary>
    [RpcMethod(3)]
    Task<int> TrailAsync(string key, string value, int result, bool fail);

    /// <summary>Fails with an RpcException carrying a detail that names <paramref name="field"/>.</summary>
    [RpcMethod(4)]
    Task RejectAsync(string field);

    /// <summary>The trace id and parent span id of the server span this call runs in ("" when untraced).</summary>
    [RpcMethod(5)]
    Task<string> SpanAsync();

    /// <summary>Calls <paramref name="listener"/> back once, then returns the server span's "traceId/parentSpanId".</summary>
    [RpcMethod(6)]
    Task<string> CallBackAsync(IQuoteListener listener, string symbol);

    /// <summary>Adds a trailer whose value is <paramref name="size"/> characters long.</summary>
    [RpcMethod(7)]
    Task<int> LargeTrailerAsync(int size);
}

public sealed class MetadataService : IMetadataService
{
    public Task<string?> HeaderAsync(string key) => Task.FromResult(RpcCallContext.Current!.RequestHeaders.GetString(key));

    public Task<byte[]?> BinaryHeaderAsync(string key) => Task.FromResult(RpcCallContext.Current!.RequestHeaders.GetBytes(key)?.ToArray());

    public Task<int> TrailAsync(string key, string value, int result, bool fail)
    {
        RpcCallContext.Current!.ResponseTrailers.Add(key, value);
        return fail ? throw new RpcException(RpcStatusCode.Failed, "failed as asked") : Task.FromResult(result);
    }

    public Task RejectAsync(string field) =>
        throw new RpcException(RpcStatusCode.Failed, "rejected") { Detail = new RpcMetadata { { "field", field }, { "code-bin", new byte[] { 1, 2, 3 } } } };

    public Task<string> SpanAsync() => Task.FromResult(Describe(Activity.Current));

    public async Task<string> CallBackAsync(IQuoteListener listener, string symbol)
    {
        var mine = Describe(Activity.Current);
        await listener.OnQuoteAsync(new Quote(symbol, 1m, 0));
        return mine;
    }

    public Task<int> LargeTrailerAsync(int size)
    {
        RpcCallContext.Current!.ResponseTrailers.Add("big", new string('x', size));
        return Task.FromResult(size);
    }

    /// <summary>"traceId/parentSpanId" of a server span, or "" when there is none.</summary>
    public static string Describe(Activity? span) => span is null ? "" : $"{span.TraceId}/{span.ParentSpanId}";
}
