namespace RpcGen.Benchmarks.Tests;

/// <summary>The rule of the repository's native prerequisites (as in <c>RpcGen.Capnp.Tests</c>' <c>ExternalTool.Missing</c>).</summary>
internal static class NativePrerequisite
{
    /// <summary>
    /// A native tool is missing (<paramref name="what"/> says which and how to install it). Under
    /// <c>CI=true</c> the test fails: CI installs every prerequisite (<c>.ci/run</c>), so a missing one
    /// means the C++ side was never run. On a machine with only the .NET SDK the test is skipped.
    /// </summary>
    public static void Missing(string what)
    {
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.Fail($"{what}; CI must install every native prerequisite.");
        }

        Assert.Skip(what);
    }
}
