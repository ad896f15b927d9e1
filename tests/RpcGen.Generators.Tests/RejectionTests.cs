using Microsoft.CodeAnalysis;
using RpcGen.Generators.Tests.Infrastructure;

namespace RpcGen.Generators.Tests;

/// <summary>
/// A service that breaks a contract rule gets no generated code and one RPC1000 warning on its name;
/// other services in the compilation are unaffected. A type that cannot be serialized does not sink the
/// contract: the rest is generated, that type's formatter fails the calls that carry it, and the
/// analyzers report it at the member that holds it (no RPC1000 on top).
/// </summary>
public class RejectionTests
{
    public static TheoryData<string, string, string> Cases => new()
    {
        { "int Count();", "", "returns 'int'" },
        { "Task PutAsync<T>(T value);", "", "method 'PutAsync' is generic" },
        { "Task PutAsync(ref int value);", "", "passed by reference" },
        { "Task PutAsync(out int value);", "", "passed by reference" },
        { "Task PutAsync(CancellationToken token, int value);", "", "must be its last parameter" },
        { "[OneWay] Task<int> PutAsync();", "", "must return void or ValueTask" },
        { "[OneWay] Task PutAsync();", "", "must return void or ValueTask" },
        { "void Fire();", "", "returns void but is not [OneWay]" },
        { "[RpcMethod(1)] Task A(); [RpcMethod(1)] Task B();", "", "have the same id 0x00000001" },
        { "[RpcMethod(-1)] Task A();", "", "negative ordinal" },
        { "int Count { get; }", "", "property 'Count'" },
        { "event System.Action Changed;", "", "event 'Changed'" },
        { "static abstract Task Create();", "", "static abstract member 'Create'" },
        { "Task PutAsync(System.Collections.Generic.IAsyncEnumerable<int> a, System.Collections.Generic.IAsyncEnumerable<int> b);", "", "streams more than one parameter" },
        { "Task PutAsync(System.IO.Stream a, System.Collections.Generic.IAsyncEnumerable<int> b);", "", "streams more than one parameter" },
        { "[OneWay] ValueTask PutAsync(System.Collections.Generic.IAsyncEnumerable<int> values);", "", "cannot stream" },
        { "Task<System.Collections.Generic.IAsyncEnumerable<int>> GetAsync();", "", "return IAsyncEnumerable<T> directly" },
        { "System.IO.Stream Get();", "", "returns a Stream synchronously" },
    };

    /// <summary>Types the generator cannot serialize: the analyzers report them (RPC0008/RPC0017) where they are declared.</summary>
    public static TheoryData<string, string, string> TypeCases => new()
    {
        { "Task PutAsync(object value);", "", "'object' has no schema" },
        { "Task PutAsync(NoConstructor value);", "public sealed class NoConstructor { public NoConstructor(int other) { } public int Value { get; set; } }", "has no public constructor" },
        { "Task PutAsync(Half value);", "public sealed class Half { public Half(int a) { A = a; } public Half(string b) { B = b; } public int A { get; } public string B { get; } = \"\"; }", "is a get-only property and the constructor used to rebuild 'Half' does not take it" },
        { "Task PutAsync(Abstract value);", "public abstract class Abstract { }", "abstract class 'Abstract'" },
        { "Task PutAsync(Base value);", "[RpcKnownType(typeof(Unrelated), 1)] public abstract class Base { } public sealed class Unrelated { }", "does not derive" },
        { "Task PutAsync(Base value);", "[RpcKnownType(typeof(Sub), -2)] public abstract class Base { } public sealed class Sub : Base { }", "non-negative tag" },
        { "Task PutAsync(Base value);", "[RpcKnownType(typeof(Sub), 1)] public abstract class Base { } [RpcKnownType(typeof(Leaf), 1)] public class Sub : Base { } public sealed class Leaf : Sub { }", "list every subtype on the root" },
        { "Task PutAsync(Clash value);", "public sealed class Clash { [RpcMember(0)] public int A { get; set; } [RpcMember(0)] public int B { get; set; } }", "pins position 0" },
        { "Task PutAsync(int[,] grid);", "", "multi-dimensional arrays" },
        { "Task PutAsync(System.Action callback);", "", "delegates cannot be serialized" },
        { "Task PutAsync(System.Text.StringBuilder text);", "", "framework type without an RpcGen formatter" },
        { "System.Collections.Generic.IAsyncEnumerable<object> GetAsync();", "", "'object' has no schema" },
        { "Task PutAsync(Holder value);", "public sealed class Holder { public System.IO.Stream? Data { get; set; } }", "a stream can only be a parameter or the result" },
        { "Task PutAsync(List<System.Collections.Generic.IAsyncEnumerable<int>> nested);", "", "a stream can only be a parameter or the result" },
        { "System.Collections.Generic.IAsyncEnumerable<System.IO.Stream> GetAsync();", "", "a stream can only be a parameter or the result" },
        { "Task<System.IO.MemoryStream> GetAsync();", "", "framework type without an RpcGen formatter" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RuleBreakGeneratesNothingAndReportsRpc1000(string member, string declarations, string reason)
    {
        var source = $$"""
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Broken;

            [RpcService]
            public interface IBroken
            {
                {{member}}
            }

            {{declarations}}
            """;

        var (result, _) = GeneratorHarness.Run(source);

        Assert.DoesNotContain(result.GeneratedSources, s => s.HintName.StartsWith("Broken.IBroken.", StringComparison.Ordinal));
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("RPC1000", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);

        // One help-link form for analyzer and generator ids: the README section's anchor.
        Assert.Equal("https://github.com/rpcgen/rpcgen#rpc1000", diagnostic.Descriptor.HelpLinkUri);
        var message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.StartsWith("Code for 'Broken.IBroken' was not generated: ", message, StringComparison.Ordinal);
        Assert.EndsWith(". See the RPCxxxx diagnostics on it.", message, StringComparison.Ordinal);
        Assert.Contains(reason, message, StringComparison.Ordinal);
        // The spec keeps a path and span, not the syntax tree, so the location is rebuilt from those.
        Assert.Equal("Contract0.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal("IBroken", source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
    }

    [Theory]
    [MemberData(nameof(TypeCases))]
    public void UnsupportedTypeGeneratesTheContractWithAFailingFormatterAndNoRpc1000(string member, string declarations, string reason)
    {
        var source = $$"""
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Broken;

            [RpcService]
            public interface IBroken
            {
                {{member}}
                Task<int> PingAsync(int value);
            }

            {{declarations}}
            """;

        var (result, output) = GeneratorHarness.Run(source);

        Assert.Empty(result.Diagnostics);
        Assert.Contains(result.GeneratedSources, s => s.HintName == "Broken.IBroken.Proxy.g.cs");
        var formatters = Assert.Single(result.GeneratedSources, s => s.HintName == "Broken.IBroken.Formatters.g.cs").SourceText.ToString();
        Assert.Contains("global::RpcGen.Serialization.UnsupportedFormatter<", formatters, StringComparison.Ordinal);
        Assert.Contains(reason, formatters, StringComparison.Ordinal);
        Assert.DoesNotContain(output.GetDiagnostics(TestContext.Current.CancellationToken), d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void GenericServiceInterfaceIsRejected()
    {
        var (result, _) = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using RpcGen;

            [RpcService]
            public interface IRepository<T>
            {
                Task<int> CountAsync();
            }
            """);

        Assert.Empty(result.GeneratedSources);
        Assert.Contains("generic service interfaces", Assert.Single(result.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void InaccessibleInterfaceIsRejected()
    {
        var (result, _) = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using RpcGen;

            public class Host
            {
                [RpcService]
                private interface IHidden
                {
                    Task GoAsync();
                }
            }
            """);

        Assert.Empty(result.GeneratedSources);
        Assert.Contains("must be public or internal", Assert.Single(result.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void EveryReasonIsListedOnce()
    {
        var (result, _) = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using RpcGen;

            [RpcService]
            public interface IBroken
            {
                Task A(ref int first);
                Task B(out int second);
                int C();
            }
            """);

        var message = Assert.Single(result.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("parameter 'first' of 'A' is passed by reference", message);
        Assert.Contains("parameter 'second' of 'B' is passed by reference", message);
        Assert.Contains("method 'C' returns 'int'", message);
    }

    [Fact]
    public void ValidServicesBesideARejectedOneAreStillGenerated()
    {
        var (result, output) = GeneratorHarness.Run(TestSources.Greeter, """
            using System.Threading.Tasks;
            using RpcGen;

            [RpcService]
            public interface IBroken
            {
                int Get();
            }
            """);

        Assert.Equal(6, result.GeneratedSources.Length);
        Assert.All(result.GeneratedSources, s => Assert.StartsWith("Acme.IGreeter.", s.HintName, StringComparison.Ordinal));
        Assert.Equal("RPC1000", Assert.Single(result.Diagnostics).Id);
        Assert.DoesNotContain(output.GetDiagnostics(TestContext.Current.CancellationToken), d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void ServicePassedByReferenceWhoseOwnContractIsRejected()
    {
        var (result, _) = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using RpcGen;

            namespace Broken;

            [RpcService] public interface IListener { int Count(); }
            [RpcService] public interface IFeed { Task SubscribeAsync(IListener listener); }
            """);

        Assert.Empty(result.GeneratedSources);
        var messages = result.Diagnostics.Select(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, messages.Count);
        Assert.StartsWith("Code for 'Broken.IFeed' was not generated: parameter 'listener' of 'SubscribeAsync': [RpcService] 'Broken.IListener' has no generated code, because method 'Count' returns 'int'", messages[0], StringComparison.Ordinal);
        Assert.StartsWith("Code for 'Broken.IListener' was not generated: method 'Count' returns 'int'", messages[1], StringComparison.Ordinal);
    }

    [Fact]
    public void ServiceOfAnAssemblyBuiltWithoutTheGeneratorIsRejected()
    {
        var library = GeneratedCodeCompilationTests.BuildLibrary(runGenerator: false, """
            using System.Threading.Tasks;
            using RpcGen;
            namespace Listeners;
            [RpcService] public interface IListener { Task OnEventAsync(string name); }
            """);
        var compilation = GeneratorHarness.CreateCompilation("""
            using System.Threading.Tasks;
            using Listeners;
            using RpcGen;
            namespace App;
            [RpcService] public interface IEvents { Task SubscribeAsync(IListener listener); }
            """).AddReferences(library);

        var result = GeneratorHarness.CreateDriver().RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        Assert.Empty(result.GeneratedSources);
        Assert.Contains(
            "[RpcService] 'Listeners.IListener' comes from assembly 'Listeners', which was built without the RpcGen generator",
            Assert.Single(result.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture),
            StringComparison.Ordinal);
    }

    [Fact]
    public void InternalServiceOfAnotherAssemblyIsRejected()
    {
        var library = GeneratedCodeCompilationTests.BuildLibrary(runGenerator: true, """
            using System.Threading.Tasks;
            using RpcGen;
            [assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Contracts")]
            namespace Listeners;
            [RpcService] internal interface IListener { Task OnEventAsync(string name); }
            """);
        var compilation = GeneratorHarness.CreateCompilation("""
            using System.Threading.Tasks;
            using Listeners;
            using RpcGen;
            namespace App;
            [RpcService] internal interface IEvents { Task SubscribeAsync(IListener listener); }
            """).AddReferences(library);

        var result = GeneratorHarness.CreateDriver().RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        Assert.Empty(result.GeneratedSources);
        Assert.Contains(
            "'Listeners.IListener' is not accessible to generated code",
            Assert.Single(result.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture),
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_contract_cap_n_proto_cannot_carry_gets_rpc1001_and_still_its_message_transport_code()
    {
        var (result, output) = GeneratorHarness.Run(capabilityTransport: true, """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Mixed;

            [RpcService]
            public interface IPrices
            {
                Task<decimal> PriceAsync(string symbol);
                IAsyncEnumerable<int> TicksAsync(IAsyncEnumerable<int> counts);
            }
            """);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("RPC1001", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Hidden, diagnostic.Severity);
        Assert.Contains("'Mixed.IPrices' has no Cap'n Proto binding", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("streams both ways", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("decimal", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(result.GeneratedSources, s => s.HintName == "Mixed.IPrices.Proxy.g.cs");
        Assert.Contains("RegisterUnsupported", result.GeneratedSources.Single(s => s.HintName == "Mixed.IPrices.Capnp.g.cs").SourceText.ToString());
        GeneratorHarness.AssertCompilesCleanly(output);
    }

    [Fact]
    public void Schema_names_a_generic_DTO_by_its_arguments_and_drops_the_I_of_a_global_namespace_interface()
    {
        var (result, output) = GeneratorHarness.Run(capabilityTransport: true, """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;

            public sealed record Customer(string Name);
            public sealed record Page<T>(List<T> Items, int Next);

            [RpcService]
            public interface ICustomers
            {
                Task<Page<Customer>> ListAsync(int from);
            }
            """);

        Assert.Empty(result.Diagnostics);
        var capnp = result.GeneratedSources.Single(s => s.HintName == "ICustomers.Capnp.g.cs").SourceText.ToString();
        Assert.Contains("struct PageCustomer ", capnp, StringComparison.Ordinal);
        Assert.Contains("interface Customers ", capnp, StringComparison.Ordinal);
        Assert.DoesNotContain("interface ICustomers", capnp, StringComparison.Ordinal);
        GeneratorHarness.AssertCompilesCleanly(output);
    }

    [Fact]
    public void One_method_cap_n_proto_cannot_carry_is_left_off_the_binding_and_the_others_keep_it()
    {
        var (result, output) = GeneratorHarness.Run(capabilityTransport: true, """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Mixed;

            [RpcService]
            public interface IPrices
            {
                Task<double> PriceAsync(string symbol);
                IAsyncEnumerable<int> TicksAsync(IAsyncEnumerable<int> counts);
                Task<int> CountAsync();
            }
            """);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("RPC1001", diagnostic.Id);
        Assert.Equal("https://github.com/rpcgen/rpcgen#rpc1001", diagnostic.Descriptor.HelpLinkUri);
        Assert.Equal(
            "'TicksAsync' is not on the Cap'n Proto binding of 'Mixed.IPrices': method 'TicksAsync' streams both ways, and the Cap'n Proto binding maps a streamed parameter or a streamed result, not both; call it over the message transport",
            diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        var capnp = result.GeneratedSources.Single(s => s.HintName == "Mixed.IPrices.Capnp.g.cs").SourceText.ToString();
        Assert.DoesNotContain("RegisterUnsupported", capnp, StringComparison.Ordinal);

        // The ordinal stays taken in the schema, so the others keep theirs; a call fails with Unimplemented.
        Assert.Contains("price @0 (symbol :Text) -> (result :Float64);", capnp, StringComparison.Ordinal);
        Assert.Contains("ticks @1 () -> ();", capnp, StringComparison.Ordinal);
        Assert.Contains("count @2 () -> (result :Int32);", capnp, StringComparison.Ordinal);
        Assert.Contains("RpcStatusCode.Unimplemented, \"'TicksAsync' is not on the Cap'n Proto binding", capnp, StringComparison.Ordinal);
        GeneratorHarness.AssertCompilesCleanly(output);
    }

    [Fact]
    public void A_streamed_result_and_a_streamed_parameter_bind_through_sinks_declared_in_the_schema()
    {
        var (result, output) = GeneratorHarness.Run(capabilityTransport: true, """
            using System.Collections.Generic;
            using System.IO;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Feeds;

            public sealed record Row(string Sku, double Price);

            [RpcService]
            public interface IFeed
            {
                IAsyncEnumerable<Row> WatchAsync(string symbol);
                Task<long> UploadAsync(string name, IAsyncEnumerable<Row> rows);
                Task<Stream> DownloadAsync(string name);
                Task StoreAsync(Stream content);
            }
            """);

        Assert.Empty(result.Diagnostics);
        var capnp = result.GeneratedSources.Single(s => s.HintName == "Feeds.IFeed.Capnp.g.cs").SourceText.ToString();
        Assert.Contains("watch @0 (symbol :Text, sink :WatchSink) -> ();", capnp, StringComparison.Ordinal);
        Assert.Contains("upload @1 (name :Text) -> (rows :UploadRowsSink);", capnp, StringComparison.Ordinal);
        Assert.Contains("download @2 (name :Text, sink :DownloadSink) -> ();", capnp, StringComparison.Ordinal);
        Assert.Contains("store @3 () -> (content :StoreContentSink);", capnp, StringComparison.Ordinal);
        Assert.Contains("write @0 (item :Row) -> stream;", capnp, StringComparison.Ordinal);
        Assert.Contains("end @1 () -> (result :Int64);", capnp, StringComparison.Ordinal);
        Assert.Contains("write @0 (bytes :Data) -> stream;", capnp, StringComparison.Ordinal);
        Assert.DoesNotContain("Unimplemented, \"'", capnp, StringComparison.Ordinal);
        GeneratorHarness.AssertCompilesCleanly(output);
    }
}
