using RpcGen.Fuzz.Harnesses;

namespace RpcGen.Fuzz;

/// <summary>Every harness, by name, in the order the scripts run them.</summary>
internal static class FuzzHarnesses
{
    public static IReadOnlyList<FuzzHarness> All { get; } =
    [
        new MessageFrameHarness(),
        new MessagePackContractHarness(),
        new CapnpMessageHarness(),
        new KnownKeysHarness(),
        new FlowFrameHarness(),
        new SharedMemoryHeaderHarness(),
        new CapnpRpcHarness(),
        new MessageStreamsHarness(),
        new HandshakeHarness(),
    ];

    public static FuzzHarness Find(string name) =>
        All.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"No harness is called '{name}'. Harnesses: {string.Join(", ", All.Select(h => h.Name))}.");
}
