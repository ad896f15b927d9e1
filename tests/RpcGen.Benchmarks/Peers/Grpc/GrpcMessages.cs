using Google.Protobuf;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Peers.Grpc.Proto;

namespace RpcGen.Benchmarks.Peers.Grpc;

/// <summary>Converts the shared benchmark values to and from their protobuf twins (done once, outside measurement).</summary>
public static class GrpcMessages
{
    public static SmallMsg ToProto(SmallMessage value) => new()
    {
        Id = value.Id,
        Name = value.Name,
        Value = value.Value,
        Timestamp = value.Timestamp,
        Flag = value.Flag,
    };

    public static SmallMessage FromProto(SmallMsg value) => new()
    {
        Id = value.Id,
        Name = value.Name,
        Value = value.Value,
        Timestamp = value.Timestamp,
        Flag = value.Flag,
    };

    public static BenchmarkMsg ToProto(BenchmarkMessage value)
    {
        var message = new BenchmarkMsg
        {
            Field1 = value.Field1,
            Field9 = value.Field9,
            Field18 = value.Field18,
            Field80 = value.Field80,
            Field81 = value.Field81,
            Field2 = value.Field2,
            Field3 = value.Field3,
            Field280 = value.Field280,
            Field6 = value.Field6,
            Field22 = value.Field22,
            Field4 = value.Field4,
            Field59 = value.Field59,
            Field7 = value.Field7,
            Field16 = value.Field16,
            Field130 = value.Field130,
            Field12 = value.Field12,
            Field17 = value.Field17,
            Field13 = value.Field13,
            Field14 = value.Field14,
            Field104 = value.Field104,
            Field100 = value.Field100,
            Field101 = value.Field101,
            Field102 = value.Field102,
            Field103 = value.Field103,
            Field29 = value.Field29,
            Field30 = value.Field30,
            Field60 = value.Field60,
            Field271 = value.Field271,
            Field272 = value.Field272,
            Field150 = value.Field150,
            Field23 = value.Field23,
            Field24 = value.Field24,
            Field25 = value.Field25,
            Field78 = value.Field78,
            Field67 = value.Field67,
            Field68 = value.Field68,
            Field128 = value.Field128,
            Field129 = value.Field129,
            Field131 = value.Field131,
            Ratio = value.Ratio,
        };
        message.Field5.AddRange(value.Field5);
        return message;
    }

    public static BenchmarkMessage FromProto(BenchmarkMsg value) => new()
    {
            Field1 = value.Field1,
            Field9 = value.Field9,
            Field18 = value.Field18,
            Field80 = value.Field80,
            Field81 = value.Field81,
            Field2 = value.Field2,
            Field3 = value.Field3,
            Field280 = value.Field280,
            Field6 = value.Field6,
            Field22 = value.Field22,
            Field4 = value.Field4,
            Field5 = [.. value.Field5],
            Field59 = value.Field59,
            Field7 = value.Field7,
            Field16 = value.Field16,
            Field130 = value.Field130,
            Field12 = value.Field12,
            Field17 = value.Field17,
            Field13 = value.Field13,
            Field14 = value.Field14,
            Field104 = value.Field104,
            Field100 = value.Field100,
            Field101 = value.Field101,
            Field102 = value.Field102,
            Field103 = value.Field103,
            Field29 = value.Field29,
            Field30 = value.Field30,
            Field60 = value.Field60,
            Field271 = value.Field271,
            Field272 = value.Field272,
            Field150 = value.Field150,
            Field23 = value.Field23,
            Field24 = value.Field24,
            Field25 = value.Field25,
            Field78 = value.Field78,
            Field67 = value.Field67,
            Field68 = value.Field68,
            Field128 = value.Field128,
            Field129 = value.Field129,
            Field131 = value.Field131,
            Ratio = value.Ratio,
    };

    /// <summary>Wraps without copying: the payload is never modified.</summary>
    public static BytesMsg ToProto(byte[] value) => new() { Data = UnsafeByteOperations.UnsafeWrap(value) };
}
