namespace RpcGen.Benchmarks.Bulk;

/// <summary>Small statistics shared by the bulk measurements.</summary>
public static class BulkMath
{
    /// <summary>The median; the mean of the middle two for an even count; 0 for none.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Collects garbage left by the previous phase so it is not charged to the next.</summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
