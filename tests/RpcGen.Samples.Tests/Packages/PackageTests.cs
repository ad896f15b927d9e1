using System.Text.Json;

namespace RpcGen.Samples.Tests.Packages;

/// <summary>
/// The packages as a user gets them: packed from this tree into a local feed (<see cref="PackageFeed"/>),
/// then consumed by projects outside the repository that know nothing of its MSBuild files.
/// </summary>
[Collection("samples")]
public class PackageTests(PackageFeed feed) : IClassFixture<PackageFeed>
{

    /// <summary>Warnings the registry causes by serving a nearby version of a transitive package; not the packages' doing.</summary>
    private static readonly string[] RegistryWarnings = ["NU1603", "NU1608"];

    [Fact]
    public void The_packages_are_the_products_with_the_declared_dependencies_and_no_warning_at_pack()
    {
        Assert.DoesNotContain(": warning ", feed.PackOutput);
        var packed = Directory.GetFiles(feed.Feed, "RpcGen*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(PackageFeed.ProductPackages.Select(id => $"{id}.{feed.Version}.nupkg").Order(StringComparer.Ordinal), packed);

        string[] Dependencies(string id) => PackageFeed.DependencyIds(feed.PackagePath(id));
        Assert.Equal(["RpcGen.Runtime"], Dependencies("RpcGen"));
        Assert.Empty(Dependencies("RpcGen.Abstractions"));
        // System.IO.Pipelines comes with net10.0's shared framework; the package would replace an app's copy.
        Assert.Equal(["MessagePack", "Microsoft.Extensions.Logging.Abstractions", "RpcGen.Abstractions"], Dependencies("RpcGen.Runtime"));
        Assert.Equal(["K4os.Compression.LZ4", "Snappier", "ZstdSharp.Port"], Dependencies("RpcGen.Compression"));
        Assert.Equal(["RpcGen.Compression", "RpcGen.Runtime"], Dependencies("RpcGen.Transport.Message"));
        Assert.Equal(["RpcGen.Runtime"], Dependencies("RpcGen.Transport.Capability"));
        Assert.Equal(["Microsoft.Extensions.Diagnostics.HealthChecks", "Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Options.ConfigurationExtensions", "RpcGen.Runtime", "RpcGen.Transport.Message"], Dependencies("RpcGen.Hosting"));
        Assert.Empty(Dependencies("RpcGen.Templates"));
        Assert.Equal(["NSec.Cryptography", "RpcGen.Runtime"], Dependencies("RpcGen.Security"));
        Assert.Equal(["RpcGen.Runtime"], Dependencies("RpcGen.Transport.Flow"));
        Assert.Equal(["RpcGen.Runtime"], Dependencies("RpcGen.Transport.SharedMemory"));
        Assert.Equal(["DnsClient", "Microsoft.Extensions.ServiceDiscovery", "Polly.Core", "RpcGen.Transport.Message"], Dependencies("RpcGen.Balancing"));

        // A dotnet tool carries what it runs on inside it, so it depends on nothing.
        Assert.Empty(Dependencies("RpcGen.Tool"));
        var tool = PackageFeed.Files(feed.PackagePath("RpcGen.Tool"));
        Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", tool);
        Assert.Contains("tools/net10.0/any/RpcGen.Tool.dll", tool);

        var rpcgen = PackageFeed.Files(feed.PackagePath("RpcGen"));
        Assert.Contains("analyzers/dotnet/cs/RpcGen.Generators.dll", rpcgen);
        Assert.Contains("analyzers/dotnet/cs/RpcGen.Analyzers.dll", rpcgen);
        Assert.Contains("analyzers/dotnet/cs/RpcGen.Analyzers.CodeFixes.dll", rpcgen);
        Assert.Contains("build/RpcGen.props", rpcgen);

        foreach (var id in PackageFeed.ProductPackages)
        {
            var metadata = PackageFeed.Nuspec(feed.PackagePath(id)).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string? Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
            Assert.Equal(feed.Version, Field("version"));
            Assert.Equal("MIT", Field("license"));
            Assert.Equal("README.md", Field("readme"));
            Assert.Contains("README.md", PackageFeed.Files(feed.PackagePath(id)));
            Assert.False(string.IsNullOrEmpty(Field("releaseNotes")), id + " has no release notes");
            Assert.NotNull(metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository"));
            if (id is not "RpcGen" and not "RpcGen.Templates" and not "RpcGen.Tool")
            {
                Assert.True(File.Exists(Path.ChangeExtension(feed.PackagePath(id), ".snupkg")), id + " has no symbols package");
                Assert.Contains(PackageFeed.Files(feed.PackagePath(id)), f => f.StartsWith("lib/", StringComparison.Ordinal) && f.EndsWith($"{id}.xml", StringComparison.Ordinal));
            }
        }
    }

    /// <summary>
    /// (a) A contract project with one package for the generator (RpcGen) and one transport serves and
    /// calls over TCP; (c) the same project published with NativeAOT, without a warning, runs too.
    /// </summary>
    [Fact]
    public async Task A_contract_project_with_RpcGen_and_a_transport_serves_and_calls_and_publishes_with_NativeAOT()
    {
        var directory = feed.NewProjectDirectory("PackagedChat");
        WriteProject(
            directory,
            "PackagedChat",
            """
            <OutputType>Exe</OutputType>
            <InvariantGlobalization>true</InvariantGlobalization>
            <PublishAot>true</PublishAot>
            """,
            $"""
            <PackageReference Include="RpcGen" Version="{feed.Version}" />
            <PackageReference Include="RpcGen.Transport.Message" Version="{feed.Version}" />
            """);
        File.WriteAllText(Path.Combine(directory, "Chat.cs"), ChatContract("PackagedChat"));
        File.WriteAllText(Path.Combine(directory, "Program.cs"), """
            using PackagedChat;
            using RpcGen.Transport.Message;

            await using var server = new RpcServer();
            server.AddService<IChat>(new Chat());
            await server.StartAsync("tcp://127.0.0.1:0");
            await using var client = await RpcClient.ConnectAsync(server.Addresses[0]);
            var reply = await client.GetService<IChat>().SendAsync(new Message("ann", "hello over tcp"));
            Console.WriteLine($"reply: {reply.Text} ({reply.Length})");
            """);

        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", "run", DotnetProcess.BuildTimeout, directory);
        Assert.True(exitCode == 0, output);
        AssertNoWarnings(output);
        Assert.Contains("reply: ann: hello over tcp (14)", output);

        string? binary = null;
        try
        {
            binary = await NativeAot.PublishAsync("PackagedChat.csproj", "PackagedChat", directory, string.Empty);
            var (runExit, runOutput) = await DotnetProcess.RunAsync(binary, string.Empty, DotnetProcess.RunTimeout, directory);
            Assert.True(runExit == 0, runOutput);
            Assert.Contains("reply: ann: hello over tcp (14)", runOutput);
        }
        finally
        {
            NativeAot.Delete(binary);
        }
    }

    /// <summary>
    /// (b) A contract project packed as a client package (RpcGenClientPackage=true), and an app that
    /// references only that package and a transport: no generator runs for the app, and the
    /// contract's module initializer registers the service when the app first asks for it.
    /// </summary>
    [Fact]
    public async Task An_app_consuming_a_client_package_runs_no_generator_and_calls_a_server()
    {
        var contract = feed.NewProjectDirectory("Chat.Contracts");
        WriteProject(
            contract,
            "Chat.Contracts",
            $"""
            <Version>{feed.Version}</Version>
            <RpcGenClientPackage>true</RpcGenClientPackage>
            """,
            $"""
            <PackageReference Include="RpcGen" Version="{feed.Version}" PrivateAssets="all" />
            <PackageReference Include="RpcGen.Runtime" Version="{feed.Version}" />
            """);
        File.WriteAllText(Path.Combine(contract, "Chat.cs"), ChatContract("Chat.Contracts").Replace("public sealed class Chat ", "internal sealed class UnusedChat "));
        var (packExit, packOutput) = await DotnetProcess.RunAsync("dotnet", $"pack -c Release -o \"{feed.Feed}\"", DotnetProcess.BuildTimeout, contract);
        Assert.True(packExit == 0, packOutput);
        AssertNoWarnings(packOutput);
        Assert.Equal(["RpcGen.Runtime"], PackageFeed.DependencyIds(feed.PackagePath("Chat.Contracts")));

        var app = feed.NewProjectDirectory("ChatApp");
        WriteProject(
            app,
            "ChatApp",
            "<OutputType>Exe</OutputType>",
            $"""
            <PackageReference Include="Chat.Contracts" Version="{feed.Version}" />
            <PackageReference Include="RpcGen.Transport.Message" Version="{feed.Version}" />
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using Chat.Contracts;
            using RpcGen;
            using RpcGen.Transport.Message;

            // First: a client asks for IChat before any code of the contract assembly has run, so only
            // the registry's lookup can have run the contract's module initializer.
            await using (var empty = new RpcServer())
            {
                await empty.StartAsync("tcp://127.0.0.1:0");
                await using var early = await RpcClient.ConnectAsync(empty.Addresses[0]);
                Console.WriteLine($"proxy: {early.GetService<IChat>().GetType().FullName}");
            }

            // The generated code is public in a client package.
            Console.WriteLine($"service: {ChatRpc.Service.Name}");

            await using var server = new RpcServer();
            server.AddService<IChat>(new AppChat());
            await server.StartAsync("tcp://127.0.0.1:0");
            await using var client = await RpcClient.ConnectAsync(server.Addresses[0]);
            var reply = await client.GetService<IChat>().SendAsync(new Message("bob", "hi from the app"));
            Console.WriteLine($"reply: {reply.Text} ({reply.Length})");

            sealed class AppChat : IChat
            {
                public Task<Reply> SendAsync(Message message, CancellationToken cancellationToken = default) =>
                    Task.FromResult(new Reply($"app {message.From}: {message.Text}", message.Text.Length));
            }
            """);

        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", "run", DotnetProcess.BuildTimeout, app);
        Assert.True(exitCode == 0, output);
        AssertNoWarnings(output);
        Assert.Contains("proxy: Chat.Contracts.ChatProxy", output);
        Assert.Contains("service: Chat.Contracts.IChat", output);
        Assert.Contains("reply: app bob: hi from the app (15)", output);

        // Neither the generator nor its package reached the app.
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "obj", "project.assets.json")));
        var libraries = assets.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name.Split('/')[0]).ToArray();
        Assert.Contains("Chat.Contracts", libraries);
        Assert.Contains("RpcGen.Runtime", libraries);
        Assert.DoesNotContain("RpcGen", libraries);

        // The app runs on the shared framework's System.IO.Pipelines: no RpcGen package brings its own.
        Assert.DoesNotContain("System.IO.Pipelines", libraries);
        Assert.False(File.Exists(Path.Combine(app, "bin", "Debug", "net10.0", "System.IO.Pipelines.dll")), "a System.IO.Pipelines.dll next to the app replaces the framework's");
    }

    /// <summary>
    /// §2: the template package installs from the feed (into a private template hive), and
    /// <c>dotnet new rpcgen-service</c> gives a contract, a server and a client that build against
    /// the packages of the same version.
    /// </summary>
    [Fact]
    public async Task The_rpcgen_service_template_installs_from_the_feed_and_builds()
    {
        var hive = feed.NewProjectDirectory("template-hive");
        var (installExit, installOutput) = await DotnetProcess.RunAsync(
            "dotnet", $"new install \"{feed.PackagePath("RpcGen.Templates")}\" --debug:custom-hive \"{hive}\"", DotnetProcess.BuildTimeout, feed.Root);
        Assert.True(installExit == 0, installOutput);

        var (newExit, newOutput) = await DotnetProcess.RunAsync(
            "dotnet", $"new rpcgen-service -n Acme.Greeter -o Acme.Greeter --debug:custom-hive \"{hive}\"", DotnetProcess.BuildTimeout, feed.Root);
        Assert.True(newExit == 0, newOutput);
        var solution = Path.Combine(feed.Root, "Acme.Greeter");
        Assert.True(File.Exists(Path.Combine(solution, "Acme.Greeter.slnx")), newOutput);
        Assert.Contains($"Version=\"{feed.Version}\"", File.ReadAllText(Path.Combine(solution, "Acme.Greeter.Contracts", "Acme.Greeter.Contracts.csproj")));

        var (buildExit, buildOutput) = await DotnetProcess.RunAsync("dotnet", "build Acme.Greeter.slnx", DotnetProcess.BuildTimeout, solution);
        Assert.True(buildExit == 0, buildOutput);
        AssertNoWarnings(buildOutput);
    }

    /// <summary>Writes <c>{name}.csproj</c>: a net10.0 project with nullable and implicit usings on, plus <paramref name="properties"/> and <paramref name="items"/>.</summary>
    private static void WriteProject(string directory, string name, string properties, string items) =>
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
            {properties}
              </PropertyGroup>
              <ItemGroup>
            {items}
              </ItemGroup>
            </Project>
            """);

    /// <summary>A small contract, its DTOs and an implementation, in <paramref name="ns"/>.</summary>
    private static string ChatContract(string ns) => $$"""
        using RpcGen;

        namespace {{ns}};

        [RpcService]
        public interface IChat
        {
            Task<Reply> SendAsync(Message message, CancellationToken cancellationToken = default);
        }

        public record Message(string From, string Text);

        public record Reply(string Text, int Length);

        public sealed class Chat : IChat
        {
            public Task<Reply> SendAsync(Message message, CancellationToken cancellationToken = default) =>
                Task.FromResult(new Reply($"{message.From}: {message.Text}", message.Text.Length));
        }
        """;

    private static void AssertNoWarnings(string output)
    {
        var warnings = output.Split('\n')
            .Where(line => line.Contains(": warning ", StringComparison.Ordinal) && !RegistryWarnings.Any(id => line.Contains(id, StringComparison.Ordinal)))
            .Distinct()
            .ToArray();
        Assert.True(warnings.Length == 0, "Warnings:\n" + string.Join('\n', warnings));
    }
}
