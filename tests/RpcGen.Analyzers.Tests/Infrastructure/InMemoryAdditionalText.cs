using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace RpcGen.Analyzers.Tests;

/// <summary>An <c>AdditionalFiles</c> item held in memory, as the compiler hands one to analyzers.</summary>
internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
}
