using System.Text;
using MessagePack;
using RpcGen.Serialization;

[assembly: RpcGen.RpcUseFormatter(typeof(RpcGen.Transport.Message.Tests.StringBuilderFormatter))]

namespace RpcGen.Transport.Message.Tests;

/// <summary>A type RpcGen cannot rebuild by itself (no public constructor): its own formatter, named on the type.</summary>
[RpcUseFormatter(typeof(TemperatureFormatter))]
public sealed class Temperature
{
    private Temperature(double kelvin) => Kelvin = kelvin;

    public double Kelvin { get; }

    public static Temperature FromCelsius(double celsius) => new(celsius + 273.15);

    internal static Temperature FromKelvin(double kelvin) => new(kelvin);
}

/// <summary>Writes a <see cref="Temperature"/> as its kelvin value (nil for null).</summary>
public sealed class TemperatureFormatter : IRpcFormatter<Temperature>
{
    public void Serialize(ref MessagePackWriter writer, Temperature value)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.Write(value.Kelvin);
    }

    public Temperature Deserialize(ref MessagePackReader reader) =>
        reader.TryReadNil() ? null! : Temperature.FromKelvin(reader.ReadDouble());
}

/// <summary>A framework type RpcGen does not format, taken over for the whole assembly.</summary>
public sealed class StringBuilderFormatter : IRpcFormatter<StringBuilder>
{
    public void Serialize(ref MessagePackWriter writer, StringBuilder value) => writer.Write(value?.ToString());

    public StringBuilder Deserialize(ref MessagePackReader reader) =>
        reader.ReadString() is { } text ? new StringBuilder(text) : null!;
}

/// <summary>A formatter for one member only: the text travels reversed (so a test can see it was used) and comes back as it was.</summary>
public sealed class ReversedStringFormatter : IRpcFormatter<string>
{
    public static string Reverse(string text) => new(text.Reverse().ToArray());

    public void Serialize(ref MessagePackWriter writer, string value) => writer.Write(Reverse(value));

    public string Deserialize(ref MessagePackReader reader) => Reverse(reader.ReadString()!);
}

public sealed class Reading
{
    public Temperature? Outside { get; set; }

    public StringBuilder? Notes { get; set; }

    [RpcUseFormatter(typeof(ReversedStringFormatter))]
    public string Secret { get; set; } = "";

    public string Plain { get; set; } = "";
}

[RpcService(0x5E57_0000_0000_0041)]
public interface IReadingService
{
    [RpcMethod(1)]
    Task<Reading> EchoAsync(Reading reading);

    [RpcMethod(2)]
    Task<Temperature> WarmerAsync(Temperature temperature, double by);
}

public sealed class ReadingService : IReadingService
{
    public Task<Reading> EchoAsync(Reading reading) => Task.FromResult(reading);

    public Task<Temperature> WarmerAsync(Temperature temperature, double by) => Task.FromResult(Temperature.FromKelvin(temperature.Kelvin + by));
}
