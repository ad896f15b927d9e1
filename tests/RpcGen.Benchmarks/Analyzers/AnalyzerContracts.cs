using System.Globalization;
using System.Text;

namespace RpcGen.Benchmarks.Analyzers;

/// <summary>
/// Writes the source of a contract assembly with <c>count</c> services, each shaped like a real one: a DTO
/// record and a DTO class, a known-type hierarchy, a callback, a stream in and out, a pinned and an
/// unpinned method, and a client class that calls them (so the body analyzers have work too).
/// </summary>
public static class AnalyzerContracts
{
    /// <summary>The source of one file holding every service.</summary>
    public static string Source(int count)
    {
        var source = new StringBuilder("""
            using System;
            using System.Collections.Generic;
            using System.IO;
            using System.Threading;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Bench.Contracts;

            """);
        for (var i = 0; i < count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            source.Append(CultureInfo.InvariantCulture, $$"""

                public sealed record Order{{n}}(int Id, string Customer, List<Line{{n}}> Lines, DateTimeOffset Placed, Shape{{n}}? Shape);

                public sealed class Line{{n}}
                {
                    public string Sku { get; set; } = "";
                    public int Quantity { get; set; }
                    public double Price { get; set; }
                    public Dictionary<string, string> Tags { get; set; } = new();
                }

                [RpcKnownType(typeof(Circle{{n}}), 1), RpcKnownType(typeof(Square{{n}}), 2)]
                public abstract record Shape{{n}};
                public sealed record Circle{{n}}(double Radius) : Shape{{n}};
                public sealed record Square{{n}}(double Side) : Shape{{n}};

                [RpcService]
                public interface IProgress{{n}} { Task ReportAsync(int percent); }

                [RpcService]
                public interface IOrders{{n}}
                {
                    Task<Order{{n}}?> GetAsync(int id, CancellationToken cancellationToken = default);
                    Task<List<Order{{n}}>> FindAsync(string customer, int limit);
                    Task PutAsync(Order{{n}} order);
                    [OneWay] void Touch(int id);
                    IAsyncEnumerable<Line{{n}}> LinesAsync(int orderId, CancellationToken cancellationToken = default);
                    Task<int> ImportAsync(IAsyncEnumerable<Order{{n}}> orders);
                    Task<Stream> ExportAsync(string format);
                    Task RunAsync(IProgress{{n}} progress);
                    Task<IProgress{{n}}> WatchAsync();
                }

                public sealed class Client{{n}}
                {
                    public async Task<int> UseAsync(IOrders{{n}} orders)
                    {
                        var order = await orders.GetAsync(1);
                        await using var export = await orders.ExportAsync("csv");
                        var found = await orders.FindAsync(order?.Customer ?? "", 10);
                        orders.Touch(1);
                        return found.Count + export.ReadByte();
                    }
                }

                """);
        }

        return source.ToString();
    }
}
