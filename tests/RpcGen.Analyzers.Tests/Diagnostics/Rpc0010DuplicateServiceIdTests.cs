using System.Globalization;
using RpcGen.Generators.Shared;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0010DuplicateServiceIdTests
{
    [Fact]
    public async Task Repeated_pinned_service_id_is_reported_on_both_services()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Billing
            {
                [RpcService({|RPC0010:42|})]
                public interface IInvoices
                {
                    Task SendAsync(int invoice);
                }
            }

            namespace Shipping
            {
                [RpcService({|RPC0010:42|})]
                public interface IParcels
                {
                    Task SendAsync(int parcel);
                }
            }
            """);

        Assert.Equal(
            [
                "Service 'Billing.IInvoices' has id 42, the same as service 'Shipping.IParcels'; service ids must be unique",
                "Service 'Shipping.IParcels' has id 42, the same as service 'Billing.IInvoices'; service ids must be unique",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Pinned_id_equal_to_another_service_derived_id_is_reported()
    {
        // The derived id is FNV-1a 64 of the interface's full name.
        var derived = RpcContractRules.Fnv1a64("Billing.IInvoices");
        var diagnostics = await VerifyAsync(
            $$"""
            namespace Billing
            {
                [RpcService]
                public interface {|RPC0010:IInvoices|}
                {
                    Task SendAsync(int invoice);
                }

                [RpcService({|RPC0010:{{derived}}UL|})]
                public interface IReminders
                {
                    Task SendAsync(int invoice);
                }
            }
            """);

        Assert.Equal(
            [
                $"Service 'Billing.IInvoices' has derived id 0x{derived.ToString("X16", CultureInfo.InvariantCulture)}, the same as service 'Billing.IReminders'; service ids must be unique",
                $"Service 'Billing.IReminders' has id {derived}, the same as service 'Billing.IInvoices'; service ids must be unique",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Distinct_service_ids_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Billing
            {
                [RpcService(42)]
                public interface IInvoices
                {
                    Task SendAsync(int invoice);
                }

                [RpcService(43)]
                public interface IReminders
                {
                    Task SendAsync(int invoice);
                }

                [RpcService]
                public interface IPayments
                {
                    Task SendAsync(int payment);
                }
            }
            """);
    }
}
