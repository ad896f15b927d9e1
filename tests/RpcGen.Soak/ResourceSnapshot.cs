using System.Diagnostics;

namespace RpcGen.Soak;

/// <summary>The process's memory and open descriptors at one moment, taken after a full forced collection.</summary>
public sealed record ResourceSnapshot(long ManagedBytes, long WorkingSetBytes, IReadOnlyDictionary<string, int> Descriptors, int Threads)
{
    public static ResourceSnapshot Take()
    {
        // Twice: objects with finalizers (sockets, safe handles) are freed only by the collection after their finalizer ran.
        for (var i = 0; i < 2; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        var managed = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return new ResourceSnapshot(managed, process.WorkingSet64, CountDescriptors(), process.Threads.Count);
    }

    /// <summary>
    /// The descriptor kind of assemblies, native libraries and symbol files. The runtime maps them on
    /// first use (a first exception's stack trace maps the .pdb files) and never unmaps them, so their
    /// growth is reported but not judged a leak.
    /// </summary>
    public const string LibraryKind = "libraries and symbols (mapped once, not judged)";

    /// <summary>Entries of /proc/self/fd other than <see cref="LibraryKind"/>: sockets, pipes, epoll, eventfds, files.</summary>
    public int OpenDescriptors => Descriptors.Where(kind => kind.Key != LibraryKind).Sum(kind => kind.Value);

    private static bool IsLibrary(string target) =>
        target.EndsWith(".dll", StringComparison.Ordinal) || target.EndsWith(".pdb", StringComparison.Ordinal) || target.Contains(".so", StringComparison.Ordinal);

    /// <summary>
    /// Entries of /proc/self/fd by what they point at ("socket", "pipe", "anon_inode:[eventpoll]", a
    /// library the runtime mapped, or another file), so a growth says which kind leaked.
    /// </summary>
    private static Dictionary<string, int> CountDescriptors()
    {
        var kinds = new Dictionary<string, int>();
        var directory = new DirectoryInfo("/proc/self/fd");
        if (!directory.Exists)
        {
            return kinds;
        }

        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            string kind;
            try
            {
                var target = entry.LinkTarget ?? "?";
                kind = IsLibrary(target) ? LibraryKind : target.StartsWith('/') ? "file" : target.Split(':')[0] is "socket" or "pipe" ? target.Split(':')[0] : target;
            }
            catch (IOException)
            {
                continue; // closed while being listed (the enumeration's own descriptor, for one)
            }

            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }

        return kinds;
    }
}
