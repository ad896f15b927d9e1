using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace RpcGen.Analyzers.Tests;

/// <summary>
/// The references a test compilation gets: the .NET reference assemblies of the running runtime's
/// version (the ref pack the test project itself was built against) plus RpcGen.Abstractions.
/// </summary>
internal static class ReferenceAssemblies
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> Lazy = new(Load);

    public static ImmutableArray<MetadataReference> All => Lazy.Value;

    private static ImmutableArray<MetadataReference> Load()
    {
        var framework = FindRefPack() is { } refPack
            ? Directory.GetFiles(refPack, "*.dll")
            : TrustedPlatformAssemblies();

        return framework
            .Append(typeof(RpcServiceAttribute).Assembly.Location)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }

    /// <summary><c>{dotnet}/packs/Microsoft.NETCore.App.Ref/{version}/ref/net10.0</c>, preferring the running runtime's version.</summary>
    private static string? FindRefPack()
    {
        var runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var dotnetRoot = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", ".."));
        var packs = Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref");
        if (!Directory.Exists(packs))
        {
            return null;
        }

        var exact = Path.Combine(packs, Path.GetFileName(runtimeDirectory), "ref", "net10.0");
        if (Directory.Exists(exact))
        {
            return exact;
        }

        return Directory.GetDirectories(packs)
            .Select(version => Path.Combine(version, "ref", "net10.0"))
            .Where(Directory.Exists)
            .OrderByDescending(path => path, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    /// <summary>The runtime's own assemblies: a sound set of references when no ref pack is installed.</summary>
    private static IEnumerable<string> TrustedPlatformAssemblies() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(path => Path.GetFileName(path) is var name && (name.StartsWith("System.", StringComparison.Ordinal) || name is "System.dll" or "netstandard.dll" or "mscorlib.dll"));
}
