using global::Grpc.Core;
using RpcGen.Benchmarks.Peers.Grpc.Proto;

namespace RpcGen.Benchmarks.Peers.Grpc;

/// <summary>The comparison service on grpc-dotnet: every unary method echoes its request.</summary>
public sealed class GrpcBenchService : BenchGrpc.BenchGrpcBase
{
    public override Task<EmptyMsg> Ping(EmptyMsg request, ServerCallContext context) => Task.FromResult(request);

    public override Task<SmallMsg> EchoSmall(SmallMsg request, ServerCallContext context) => Task.FromResult(request);

    public override Task<BenchmarkMsg> EchoMessage(BenchmarkMsg request, ServerCallContext context) => Task.FromResult(request);

    public override Task<BytesMsg> EchoBytes(BytesMsg request, ServerCallContext context) => Task.FromResult(request);

    public override async Task StreamItems(StreamRequest request, IServerStreamWriter<StreamItemMsg> responseStream, ServerCallContext context)
    {
        // BufferHint lets grpc-dotnet skip the flush after each message; the call's completion flushes the rest.
        responseStream.WriteOptions = new WriteOptions(WriteFlags.BufferHint);
        for (var i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(new StreamItemMsg { Sequence = i, Value = i * 3L }).ConfigureAwait(false);
        }
    }

    public override async Task<UploadResult> Upload(IAsyncStreamReader<ChunkMsg> requestStream, ServerCallContext context)
    {
        long total = 0;
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            total += requestStream.Current.Data.Length;
        }

        return new UploadResult { Bytes = total };
    }
}
