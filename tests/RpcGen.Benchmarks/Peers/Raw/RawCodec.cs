using MessagePack;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Peers.Raw;

/// <summary>
/// The raw floor's serializer: hand-written MessagePack for the benchmark DTOs, the same array layout
/// RpcGen and StreamJsonRpc use, with no resolver, no options and no envelope. Readers tolerate
/// extra trailing members the way a versioned reader would, and nothing more.
/// </summary>
public static class RawCodec
{
    public static void Write(ref MessagePackWriter writer, SmallMessage value)
    {
        writer.WriteArrayHeader(5);
        writer.Write(value.Id);
        writer.Write(value.Name);
        writer.Write(value.Value);
        writer.Write(value.Timestamp);
        writer.Write(value.Flag);
    }

    public static SmallMessage ReadSmall(ref MessagePackReader reader)
    {
        var count = reader.ReadArrayHeader();
        var result = new SmallMessage();
        for (var i = 0; i < count; i++)
        {
            switch (i)
            {
                case 0: result.Id = reader.ReadInt32(); break;
                case 1: result.Name = reader.ReadString() ?? string.Empty; break;
                case 2: result.Value = reader.ReadDouble(); break;
                case 3: result.Timestamp = reader.ReadInt64(); break;
                case 4: result.Flag = reader.ReadBoolean(); break;
                default: reader.Skip(); break;
            }
        }

        return result;
    }

    public static void Write(ref MessagePackWriter writer, StreamItem value)
    {
        writer.WriteArrayHeader(2);
        writer.Write(value.Sequence);
        writer.Write(value.Value);
    }

    public static StreamItem ReadStreamItem(ref MessagePackReader reader)
    {
        var count = reader.ReadArrayHeader();
        var result = new StreamItem();
        for (var i = 0; i < count; i++)
        {
            switch (i)
            {
                case 0: result.Sequence = reader.ReadInt32(); break;
                case 1: result.Value = reader.ReadInt64(); break;
                default: reader.Skip(); break;
            }
        }

        return result;
    }

    public static void Write(ref MessagePackWriter writer, byte[] value) => writer.Write(value);

    public static byte[] ReadBytes(ref MessagePackReader reader)
    {
        var sequence = reader.ReadBytes();
        return sequence is { } bytes ? System.Buffers.BuffersExtensions.ToArray(bytes) : [];
    }

    public static void Write(ref MessagePackWriter writer, BenchmarkMessage value)
    {
        writer.WriteArrayHeader(41);
        writer.Write(value.Field1);
        writer.Write(value.Field9);
        writer.Write(value.Field18);
        writer.Write(value.Field80);
        writer.Write(value.Field81);
        writer.Write(value.Field2);
        writer.Write(value.Field3);
        writer.Write(value.Field280);
        writer.Write(value.Field6);
        writer.Write(value.Field22);
        writer.Write(value.Field4);
        WriteUInt64Array(ref writer, value.Field5);
        writer.Write(value.Field59);
        writer.Write(value.Field7);
        writer.Write(value.Field16);
        writer.Write(value.Field130);
        writer.Write(value.Field12);
        writer.Write(value.Field17);
        writer.Write(value.Field13);
        writer.Write(value.Field14);
        writer.Write(value.Field104);
        writer.Write(value.Field100);
        writer.Write(value.Field101);
        writer.Write(value.Field102);
        writer.Write(value.Field103);
        writer.Write(value.Field29);
        writer.Write(value.Field30);
        writer.Write(value.Field60);
        writer.Write(value.Field271);
        writer.Write(value.Field272);
        writer.Write(value.Field150);
        writer.Write(value.Field23);
        writer.Write(value.Field24);
        writer.Write(value.Field25);
        writer.Write(value.Field78);
        writer.Write(value.Field67);
        writer.Write(value.Field68);
        writer.Write(value.Field128);
        writer.Write(value.Field129);
        writer.Write(value.Field131);
        writer.Write(value.Ratio);
    }

    public static BenchmarkMessage ReadBenchmarkMessage(ref MessagePackReader reader)
    {
        var count = reader.ReadArrayHeader();
        var result = new BenchmarkMessage();
        for (var i = 0; i < count; i++)
        {
            switch (i)
            {
                case 0: result.Field1 = reader.ReadString() ?? string.Empty; break;
                case 1: result.Field9 = reader.ReadString() ?? string.Empty; break;
                case 2: result.Field18 = reader.ReadString() ?? string.Empty; break;
                case 3: result.Field80 = reader.ReadBoolean(); break;
                case 4: result.Field81 = reader.ReadBoolean(); break;
                case 5: result.Field2 = reader.ReadInt32(); break;
                case 6: result.Field3 = reader.ReadInt32(); break;
                case 7: result.Field280 = reader.ReadInt32(); break;
                case 8: result.Field6 = reader.ReadInt32(); break;
                case 9: result.Field22 = reader.ReadInt64(); break;
                case 10: result.Field4 = reader.ReadString() ?? string.Empty; break;
                case 11: result.Field5 = ReadUInt64Array(ref reader); break;
                case 12: result.Field59 = reader.ReadBoolean(); break;
                case 13: result.Field7 = reader.ReadString() ?? string.Empty; break;
                case 14: result.Field16 = reader.ReadInt32(); break;
                case 15: result.Field130 = reader.ReadInt32(); break;
                case 16: result.Field12 = reader.ReadBoolean(); break;
                case 17: result.Field17 = reader.ReadBoolean(); break;
                case 18: result.Field13 = reader.ReadBoolean(); break;
                case 19: result.Field14 = reader.ReadBoolean(); break;
                case 20: result.Field104 = reader.ReadInt32(); break;
                case 21: result.Field100 = reader.ReadInt32(); break;
                case 22: result.Field101 = reader.ReadInt32(); break;
                case 23: result.Field102 = reader.ReadString() ?? string.Empty; break;
                case 24: result.Field103 = reader.ReadString() ?? string.Empty; break;
                case 25: result.Field29 = reader.ReadInt32(); break;
                case 26: result.Field30 = reader.ReadBoolean(); break;
                case 27: result.Field60 = reader.ReadInt32(); break;
                case 28: result.Field271 = reader.ReadInt32(); break;
                case 29: result.Field272 = reader.ReadInt32(); break;
                case 30: result.Field150 = reader.ReadInt32(); break;
                case 31: result.Field23 = reader.ReadInt32(); break;
                case 32: result.Field24 = reader.ReadBoolean(); break;
                case 33: result.Field25 = reader.ReadInt32(); break;
                case 34: result.Field78 = reader.ReadBoolean(); break;
                case 35: result.Field67 = reader.ReadInt32(); break;
                case 36: result.Field68 = reader.ReadInt32(); break;
                case 37: result.Field128 = reader.ReadInt32(); break;
                case 38: result.Field129 = reader.ReadString() ?? string.Empty; break;
                case 39: result.Field131 = reader.ReadInt32(); break;
                case 40: result.Ratio = reader.ReadDouble(); break;
                default: reader.Skip(); break;
            }
        }

        return result;
    }

    private static void WriteUInt64Array(ref MessagePackWriter writer, ulong[] values)
    {
        writer.WriteArrayHeader(values.Length);
        foreach (var value in values)
        {
            writer.Write(value);
        }
    }

    private static ulong[] ReadUInt64Array(ref MessagePackReader reader)
    {
        // ReadArrayHeader rejects a count larger than the bytes left, so this allocation is bounded.
        var count = reader.ReadArrayHeader();
        var values = new ulong[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.ReadUInt64();
        }

        return values;
    }
}
