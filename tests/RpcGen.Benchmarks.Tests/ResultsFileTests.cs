using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Tests;

/// <summary>A fresh run replaces a results file's top and keeps its hand-written sections.</summary>
public sealed class ResultsFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("rpcgen-results-").FullName;

    [Fact]
    public async Task A_new_top_replaces_the_old_one_and_the_sections_below_stay()
    {
        var path = Path.Combine(_directory, "shm.md");
        await File.WriteAllTextAsync(path, "# Bench\n\nold table\n\nold words\n\n## Earlier run\n\nfigures\n\n## Investigation\n\nnotes\n", TestContext.Current.CancellationToken);

        await ResultsFile.WriteTopKeepingSectionsAsync(path, "# Bench\n\nnew table\n");

        var text = await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal("# Bench\n\nnew table\n\n## Earlier run\n\nfigures\n\n## Investigation\n\nnotes\n", text);
    }

    [Fact]
    public async Task A_missing_file_and_folder_are_created_with_the_top_alone()
    {
        var path = Path.Combine(_directory, "nested", "shm-pinned.md");

        await ResultsFile.WriteTopKeepingSectionsAsync(path, "# Bench\n\ntable\n");

        Assert.Equal("# Bench\n\ntable\n", await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_file_without_sections_is_replaced_whole()
    {
        var path = Path.Combine(_directory, "shm.md");
        await File.WriteAllTextAsync(path, "# Bench\n\nold table with ### a minor heading\n", TestContext.Current.CancellationToken);

        await ResultsFile.WriteTopKeepingSectionsAsync(path, "# Bench\n\nnew table\n");

        Assert.Equal("# Bench\n\nnew table\n", await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
