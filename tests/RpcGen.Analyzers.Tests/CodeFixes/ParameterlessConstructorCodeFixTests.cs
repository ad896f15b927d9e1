using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class ParameterlessConstructorCodeFixTests
{
    private static readonly ParameterlessConstructorCodeFixProvider Provider = new();

    private static string Checkout(string receipt, string uses = "Task<Receipt> PayAsync(string id);") => $$"""
        namespace Shop;

        public sealed class Receipt
        {
            {{receipt}}
            public string Id { get; set; } = "";
        }

        [RpcService]
        public interface ICheckout
        {
            {{uses}}
        }
        """;

    [Fact]
    public async Task A_public_parameterless_constructor_is_added_before_the_others()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.NoUsableConstructor,
            before: Checkout("public Receipt(string number, int copies) => Id = number;\n"),
            after: Checkout("public Receipt()\n    {\n    }\n\n    public Receipt(string number, int copies) => Id = number;\n"),
            expectedTitle: "Add a public parameterless constructor to 'Receipt'");
    }

    [Fact]
    public async Task A_private_parameterless_constructor_is_made_public()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.NoUsableConstructor,
            before: Checkout("private Receipt() { }\n"),
            after: Checkout("public Receipt() { }\n"),
            expectedTitle: "Make the parameterless constructor of 'Receipt' public");
    }

    [Fact]
    public async Task Fix_All_fixes_each_DTO_once_however_often_it_is_used()
    {
        await CodeFixHarness.VerifyFixAllAsync(
            Provider,
            DiagnosticIds.NoUsableConstructor,
            before: Checkout("internal Receipt() { }\n", "Task<Receipt> PayAsync(string id);\n    Task<Receipt> RefundAsync(string id);"),
            after: Checkout("public Receipt() { }\n", "Task<Receipt> PayAsync(string id);\n    Task<Receipt> RefundAsync(string id);"),
            title: "Make the parameterless constructor of 'Receipt' public");
    }
}
