namespace RpcGen.Samples.Calculator;

/// <summary>The outcome of one of <see cref="CalculatorChecks"/>: <see cref="Failure"/> is null when it passed.</summary>
public sealed record CheckResult(string Name, string? Failure)
{
    /// <summary>True when the check passed.</summary>
    public bool Passed => Failure is null;

    /// <summary>The line <c>call</c> prints, as the C++ client does: <c>name... PASS</c> or <c>name... FAIL: why</c>.</summary>
    public override string ToString() => Passed ? $"{Name}... PASS" : $"{Name}... FAIL: {Failure}";
}
