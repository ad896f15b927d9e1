using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class ValidContractTests
{
    /// <summary>Every supported shape in one realistic contract: the analyzers must accept all of it.</summary>
    [Fact]
    public async Task Contract_with_every_supported_shape_produces_no_diagnostics_but_the_recursion_info()
    {
        await VerifyAsync(
            """
            namespace Shop.Contracts;

            public enum OrderStatus : byte { Pending, Shipped, Cancelled }

            public readonly record struct Money(decimal Amount, string Currency);

            public struct Coordinates
            {
                public double Latitude;
                public double Longitude;
            }

            public sealed class Address
            {
                [RpcMember(0)] public string Street { get; set; } = "";
                [RpcMember(1)] public string City { get; init; } = "";
                [RpcMember(2)] public Coordinates? Location { get; set; }

                [RpcIgnore] public Func<string>? Formatter { get; set; }
            }

            public class Entity
            {
                public Guid Id { get; set; }
                public DateTimeOffset CreatedAt { get; set; }
            }

            public sealed class Customer : Entity
            {
                public string Name { get; set; } = "";
                public Address? Shipping { get; set; }
                public IReadOnlyList<Address> Addresses { get; set; } = [];
            }

            public sealed record OrderLine(string Sku, int Quantity, Money UnitPrice, TimeSpan? Warranty);

            [RpcKnownType(typeof(CardPayment), 1)]
            [RpcKnownType(typeof(InvoicePayment), 2)]
            public abstract record Payment(Money Amount);

            public sealed record CardPayment(Money Amount, string Last4) : Payment(Amount);
            public sealed record InvoicePayment(Money Amount, DateTime DueDate) : Payment(Amount);

            [RpcKnownType(typeof(EmailContact), 1)]
            public interface IContact
            {
            }

            public sealed record EmailContact(string Address) : IContact;

            public sealed class Order
            {
                public long Number { get; set; }
                public OrderStatus Status { get; set; }
                public Customer Customer { get; set; } = new();
                public List<OrderLine> Lines { get; set; } = [];
                public OrderLine[] Returns { get; set; } = [];
                public int[][] Matrix { get; set; } = [];
                public byte[] Signature { get; set; } = [];
                public Dictionary<string, decimal> Discounts { get; set; } = [];
                public IReadOnlyDictionary<Guid, IList<string>> Notes { get; set; } = new Dictionary<Guid, IList<string>>();
                public IEnumerable<char> Tags { get; set; } = [];
                public ICollection<uint> Counters { get; set; } = [];
                public Payment? Payment { get; set; }
                public IContact? Contact { get; set; }
                public Order? {|RPC0028:Previous|} { get; set; }
                public sbyte Priority { get; set; }
                public float Weight { get; set; }
                public ulong Revision { get; set; }
                public bool Gift { get; set; }
            }

            public sealed record Page<T>(IReadOnlyCollection<T> Items, int Total);

            public interface IHealth
            {
                ValueTask<bool> PingAsync(CancellationToken cancellationToken = default);
            }

            public static class Contracts
            {
                [RpcService]
                public interface IAudit
                {
                    [OneWay]
                    void Record(string message);
                }
            }

            [RpcService(0x5EED_0001UL)]
            public interface IOrders : IHealth
            {
                [RpcMethod(1)]
                Task<Order> PlaceAsync(Order order, CancellationToken cancellationToken);

                [RpcMethod(2)]
                Task<Order?> FindAsync(long number);

                [RpcMethod(3)]
                Task CancelAsync(long number, string? reason = null, CancellationToken cancellationToken = default);

                Task<Page<Order>> ListAsync(OrderStatus? status, int skip, int take);
                ValueTask<Dictionary<OrderStatus, int>> CountByStatusAsync(DateTime from, DateTime to);
                ValueTask ArchiveAsync(params long[] numbers);

                [OneWay]
                ValueTask TouchAsync(Guid customer);

                [OneWay]
                void Forget(long number);
            }
            """);
    }
}
