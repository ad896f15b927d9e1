using System.Text.RegularExpressions;
using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Capnp.Tests.Export;

/// <summary>
/// The whole-contract schema the generator puts in this assembly (<see cref="CapnpContractSchemaAttribute"/>,
/// what <c>rpcgen capnp export</c> writes): it compiles with the C++ reference compiler, and a C++ client
/// written against the code <c>capnp compile -oc++</c> makes of it talks to our server.
/// </summary>
public sealed class ContractExportTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static string Schema => CapnpContractSchemaAttribute.Of(typeof(IShelf).Assembly)
        ?? throw new InvalidOperationException("The test assembly carries no contract schema.");

    [Fact]
    public void Each_service_is_declared_once_with_extends_for_its_base_and_its_types_nested_as_in_csharp()
    {
        var schema = Schema;

        // Every id is declared once, though Shelf and Librarian pass each other and Store passes itself.
        var ids = Regex.Matches(schema, @"^\s*(?:struct|enum|interface) \w+ @(0x[0-9a-f]{16})", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        Assert.Contains("0xe5b07a1100000003", ids);

        Assert.Contains("interface Shelf @0xe5b07a1100000002 extends(Named) {", schema);
        Assert.Contains("interface Named @0xe5b07a1100000001 {\n  name @0 () -> (result :Text);\n}", schema);
        Assert.Contains("  find @0 (title :Text) -> (book :Shelf.Book);", schema);
        Assert.Contains("  librarian @2 () -> (librarian :Librarian);", schema);
        Assert.Contains("  shelf @0 () -> (shelf :Shelf);", schema);

        // Book, Genre and Binding are nested in IShelf in C#, so in Shelf here; Book keeps its pinned id.
        var shelf = schema[schema.IndexOf("interface Shelf ", StringComparison.Ordinal)..];
        shelf = shelf[..(shelf.IndexOf("\n}\n", StringComparison.Ordinal) + 3)];
        Assert.Contains("  struct Book @0xe5b07a1100000010 {\n    title @0 :Text;\n    genre @1 :Shelf.Genre;\n    authors @2 :List(Text);\n    binding @3 :Shelf.Binding;\n  }", shelf);
        Assert.Contains("  enum Genre @", shelf);
        Assert.Contains("    union {\n      paperback @0 :Void;\n      hardcover @1 :Int32;\n    }", shelf);
    }

    [Fact]
    public async Task The_exported_schema_compiles_and_lays_out_as_the_per_service_schemas_do()
    {
        var directory = Directory.CreateTempSubdirectory("rpcgen-export-").FullName;
        try
        {
            var path = Path.Combine(directory, "contract.capnp");
            await File.WriteAllTextAsync(path, Schema);
            var capnp = ExternalTool.Require("capnp", "apt-get install -y capnproto");
            await ExternalTool.RunCheckedAsync(capnp, ["compile", "-oc++", "contract.capnp"], workingDirectory: directory);
            Assert.True(File.Exists(Path.Combine(directory, "contract.capnp.h")));

            // The shelf's own schema (services it passes declared by id only) gives Book the same layout.
            var own = Path.Combine(directory, "shelf.capnp");
            await File.WriteAllTextAsync(own, CapnpServiceRegistry.Schema<IShelf>());
            var exported = await ExternalTool.RunCheckedAsync(capnp, ["compile", "-ocapnp", "contract.capnp"], workingDirectory: directory);
            var alone = await ExternalTool.RunCheckedAsync(capnp, ["compile", "-ocapnp", "shelf.capnp"], workingDirectory: directory);
            Assert.Equal(BookLayout(alone.StdoutText), BookLayout(exported.StdoutText));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        // "struct Book @0x… {  # 1 words, 3 ptrs" and the "@N: bits[…]" / "ptr[…]" offsets of its fields.
        static string BookLayout(string compiled)
        {
            var start = compiled.IndexOf("struct Book @0xe5b07a1100000010", StringComparison.Ordinal);
            Assert.True(start >= 0, compiled);
            var header = compiled[start..compiled.IndexOf('\n', start)];
            var body = compiled[start..compiled.IndexOf('}', start)];
            return header[(header.IndexOf('#') + 1)..].Trim() + "|" + string.Join("|", Regex.Matches(body, @"#\s*(bits\[\d+, \d+\)|ptr\[\d+\])").Select(m => m.Groups[1].Value));
        }
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task A_cpp_client_built_from_the_exported_schema_talks_to_our_server(string transport)
    {
        var directory = Directory.CreateTempSubdirectory("rpcgen-export-").FullName;
        var socket = Path.Combine(Path.GetTempPath(), $"rpcgen-export-{Guid.NewGuid():N}.sock");
        try
        {
            var schema = Path.Combine(directory, "contract.capnp");
            await File.WriteAllTextAsync(schema, Schema);
            var peers = await CppPeers.BuildAsync("export", schema, [("export-client", Path.Combine(CapnpTool.InteropDirectory, "peers", "export-client.c++"))]);

            await using var server = CapnpServer.Listen<IShelf>(transport == "unix" ? "unix:" + socket : "tcp://127.0.0.1:0", new ShelfService());
            var address = transport == "unix" ? "unix:" + socket : server.Address["tcp://".Length..];
            await using var client = PeerProcess.Start(Path.Combine(peers, "export-client"), address);
            var exit = await client.WaitForExitAsync(Timeout);

            Assert.True(exit == 0, string.Join('\n', client.Output) + "\n" + await client.StderrSoFarAsync());
            Assert.Equal(
                [
                    "name front shelf",
                    "find Dune genre=fiction authors=1:Frank Herbert binding=hardcover 412",
                    "add 2",
                    "genreOf science",
                    "greet welcome, cpp",
                    "shelf front shelf",
                ],
                client.Output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
            File.Delete(socket);
        }
    }
}
