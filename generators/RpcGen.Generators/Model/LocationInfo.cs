using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace RpcGen.Generators.Model;

/// <summary>An equatable stand-in for a <see cref="Location"/>, which must not be kept in a spec (it pins the syntax tree).</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(Location? location) =>
        location is { SourceTree: not null } ? new(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span) : null;

    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
}
