using RpcGen.Capnp;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>The C# <c>BenchNode</c> (Native/bench.capnp), answering as the C++ bench-server does: echo, a new node one deeper, its depth.</summary>
public sealed class BenchNodeServer(long depth) : ICapabilityServer
{
    /// <inheritdoc />
    public Task DispatchAsync(CallContext context)
    {
        if (context.InterfaceId != BenchProtocol.NodeId)
        {
            throw new RpcException(RpcStatusCode.Unimplemented, $"Unknown interface {context.InterfaceId:x}.");
        }

        switch (context.MethodId)
        {
            case BenchProtocol.EchoSmall:
                // Decoded into the DTO and encoded from it, as the message transport's dispatcher does with SmallMessage.
                BenchProtocol.WriteSmall(context.InitResults(0, 1).GetPointer(0), BenchProtocol.ReadSmall(context.Params.GetStruct().ReadStruct(0)));
                break;
            case BenchProtocol.Next or BenchProtocol.NextAwaited:
            {
                using var node = Capability.FromServer(new BenchNodeServer(depth + 1));
                context.InitResults(0, 1).WriteCapability(0, node);
                break;
            }

            case BenchProtocol.Read:
                context.InitResults(1, 0).WriteInt64(0, depth);
                break;
            default:
                throw new RpcException(RpcStatusCode.Unimplemented, $"BenchNode has no method {context.MethodId}.");
        }

        return Task.CompletedTask;
    }
}
