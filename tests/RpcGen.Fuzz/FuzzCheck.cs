namespace RpcGen.Fuzz;

/// <summary>Invariant checks that turn a parser's wrong answer into a finding.</summary>
internal static class FuzzCheck
{
    public static void That(bool condition, string invariant)
    {
        if (!condition)
        {
            throw new FuzzInvariantException($"Invariant broken: {invariant}.");
        }
    }
}
