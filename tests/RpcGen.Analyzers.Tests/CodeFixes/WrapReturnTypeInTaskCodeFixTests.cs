using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class WrapReturnTypeInTaskCodeFixTests
{
    private static readonly WrapReturnTypeInTaskCodeFixProvider Provider = new();

    [Fact]
    public async Task Value_return_becomes_Task_of_the_value()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.UnsupportedReturnType,
            before: """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                int Add(int a, int b);
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                Task<int> Add(int a, int b);
            }
            """,
            expectedTitle: "Return Task<int>");
    }

    [Fact]
    public async Task Void_return_becomes_Task_and_the_missing_using_is_added_in_order()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.UnsupportedReturnType,
            before: """
            using System;
            using RpcGen;

            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                /// <summary>Clears the memory.</summary>
                void Reset();
            }
            """,
            after: """
            using System;
            using System.Threading.Tasks;
            using RpcGen;

            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                /// <summary>Clears the memory.</summary>
                Task Reset();
            }
            """,
            expectedTitle: "Return Task",
            withGlobalUsings: false);
    }

    [Fact]
    public async Task Task_is_fully_qualified_when_another_Task_type_is_in_scope()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.UnsupportedReturnType,
            before: """
            using RpcGen;

            namespace Shop;

            public sealed record Task(string Title);

            [RpcService]
            public interface ITodo
            {
                Task Next();
            }
            """,
            after: """
            using RpcGen;

            namespace Shop;

            public sealed record Task(string Title);

            [RpcService]
            public interface ITodo
            {
                global::System.Threading.Tasks.Task<Task> Next();
            }
            """,
            expectedTitle: "Return Task<Task>",
            withGlobalUsings: false);
    }

    [Fact]
    public async Task No_fix_is_offered_for_a_one_way_method()
    {
        await CodeFixHarness.VerifyNoFixAsync(
            Provider,
            DiagnosticIds.UnsupportedReturnType,
            """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                [OneWay]
                int Add(int a, int b);
            }
            """);
    }
}
