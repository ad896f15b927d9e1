using RpcGen.Testing;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>The test host (<c>tests/RpcGen.Transport.SharedMemory.TestHost</c>) as a real second process, which a test can kill -9.</summary>
internal static class HostProcess
{
    /// <summary>A fresh shared-memory address under the temporary directory.</summary>
    public static string NewAddress(string scheme = "shm") => $"{scheme}:{Path.Combine(Path.GetTempPath(), $"rpcgen-shm-{Guid.NewGuid():N}.sock")}";

    /// <summary>
    /// Starts the host on <paramref name="address"/> (a fresh one if null) and waits until it listens.
    /// With <paramref name="windowBytes"/> and <paramref name="windowsPerDirection"/> it serves with
    /// those <see cref="SharedMemoryOptions"/> instead of the defaults.
    /// </summary>
    public static Task<ChildServerProcess> StartAsync(string? address = null, int? windowBytes = null, int? windowsPerDirection = null)
    {
        List<string> arguments = [address ?? NewAddress()];
        if (windowBytes is { } bytes && windowsPerDirection is { } count)
        {
            arguments.Add(bytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            arguments.Add(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return ChildServerProcess.StartAsync("RpcGen.Transport.SharedMemory.TestHost", arguments);
    }
}
