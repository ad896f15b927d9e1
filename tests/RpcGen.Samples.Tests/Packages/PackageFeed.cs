using System.IO.Compression;
using System.Xml.Linq;

namespace RpcGen.Samples.Tests.Packages;

/// <summary>
/// The product packages, packed from this working tree into a local folder feed under a temporary
/// directory, with a version no earlier run used (<c>0.1.0-pkgtest.…</c>) so that a package cached
/// by an earlier run can never stand in for the one under test. Consumer projects are written beside
/// the feed with a <c>nuget.config</c> that has only the feed and this machine's own sources.
/// Everything it wrote, the feed's entries in the global packages folder included, goes at disposal.
/// </summary>
public sealed class PackageFeed : IAsyncLifetime
{
    /// <summary>The packages <c>dotnet pack</c> of the solution must produce: exactly these.</summary>
    public static readonly string[] ProductPackages =
    [
        "RpcGen", "RpcGen.Abstractions", "RpcGen.Runtime", "RpcGen.Compression",
        "RpcGen.Transport.Message", "RpcGen.Transport.Capability", "RpcGen.Hosting", "RpcGen.Templates",
        "RpcGen.Security", "RpcGen.Tool", "RpcGen.Transport.Flow", "RpcGen.Transport.SharedMemory",
        "RpcGen.Balancing",
    ];

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"rpcgen-packages-{Guid.NewGuid():N}");

    public string Feed => Path.Combine(Root, "feed");

    /// <summary>The version every package of this run has.</summary>
    public string Version { get; } = $"0.1.0-pkgtest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Random.Shared.Next(100000, 999999)}";

    /// <summary>What <c>dotnet pack</c> printed.</summary>
    public string PackOutput { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Feed);

        // Keep the consumers free of any MSBuild file above the temporary directory.
        File.WriteAllText(Path.Combine(Root, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(Root, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(Root, "Directory.Packages.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(Root, "nuget.config"), await NuGetConfigAsync());

        // The product packages only (RpcGen.Packages.slnf), as a release would pack them.
        var (exitCode, output) = await DotnetProcess.RunAsync(
            "dotnet",
            $"pack RpcGen.Packages.slnf -c Release -o \"{Feed}\" -p:VersionSuffix={Version["0.1.0-".Length..]}",
            DotnetProcess.BuildTimeout);
        PackOutput = output;
        Assert.True(exitCode == 0, output);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Directory.Exists(Root))
            {
                Directory.Delete(Root, recursive: true);
            }

            // Drop this run's versions from the global packages folder: nothing reuses them.
            var (_, locals) = await DotnetProcess.RunAsync("dotnet", "nuget locals global-packages --list", DotnetProcess.RunTimeout);
            var folder = locals.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("global-packages:", StringComparison.Ordinal))?["global-packages:".Length..].Trim();
            if (folder is not null && Directory.Exists(folder))
            {
                foreach (var package in Directory.EnumerateDirectories(folder))
                {
                    var versioned = Path.Combine(package, Version);
                    if (Directory.Exists(versioned))
                    {
                        Directory.Delete(versioned, recursive: true);
                        if (!Directory.EnumerateFileSystemEntries(package).Any())
                        {
                            Directory.Delete(package);
                        }
                    }
                }
            }
        }
        catch (IOException)
        {
            // Temporary files; a leftover does no harm.
        }
    }

    /// <summary>A new directory for one consumer project.</summary>
    public string NewProjectDirectory(string name)
    {
        var directory = Path.Combine(Root, name);
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>The path of a package of this run in the feed.</summary>
    public string PackagePath(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    /// <summary>The ids of the dependencies a package declares, for every target framework.</summary>
    public static string[] DependencyIds(string nupkg) =>
        Nuspec(nupkg).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => (string)e.Attribute("id")!)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();

    public static XDocument Nuspec(string nupkg)
    {
        using var archive = ZipFile.OpenRead(nupkg);
        var entry = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
        using var stream = entry.Open();
        return XDocument.Load(stream);
    }

    public static string[] Files(string nupkg)
    {
        using var archive = ZipFile.OpenRead(nupkg);
        return archive.Entries.Select(e => e.FullName).ToArray();
    }

    /// <summary>
    /// <c>&lt;clear/&gt;</c>, the local feed, and the sources this machine's NuGet configuration has
    /// enabled (read with <c>dotnet nuget list source</c>, so the test names no registry itself)
    /// for the third-party packages the consumers need.
    /// </summary>
    private async Task<string> NuGetConfigAsync()
    {
        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", "nuget list source --format Short", DotnetProcess.RunTimeout, Root);
        Assert.True(exitCode == 0, output);
        var machineSources = output.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("E ", StringComparison.Ordinal))
            .Select(line => line[2..].Trim())
            .ToArray();

        var sources = new XElement("packageSources", new XElement("clear"), new XElement("add", new XAttribute("key", "local"), new XAttribute("value", Feed)));
        for (var i = 0; i < machineSources.Length; i++)
        {
            sources.Add(new XElement("add", new XAttribute("key", $"machine{i}"), new XAttribute("value", machineSources[i])));
        }

        return new XDocument(new XElement("configuration", sources)).ToString();
    }
}
