using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// The checked-in wire contract of a project, <c>RpcContracts.Shipped.txt</c> (an <c>AdditionalFiles</c>
/// item): one line per service, method and DTO member, each a kind, a name and what the wire depends on.
/// <code>
/// service Shop.IInventory 0x5C3F0A2B9D4E6718
/// method Shop.IInventory.GetAsync @0 (int) -> Shop.Item
/// method Shop.IInventory.FindAsync 0x9A0B1C2D (string,int?) -> System.Collections.Generic.List&lt;Shop.Item&gt;
/// member Shop.Item.Name 0 string
/// member Shop.Item.Price @1 decimal
/// </code>
/// A method id is <c>@n</c> when pinned with <c>[RpcMethod(n)]</c>, else the derived id in hex; a member
/// position is <c>@n</c> when pinned with <c>[RpcMember(n)]</c>. Types are written without spaces or
/// nullable reference annotations. Blank lines and lines starting with <c>#</c> are comments.
/// </summary>
internal sealed class ContractBaseline
{
    /// <summary>The file name the analyzers look for among the additional files.</summary>
    public const string FileName = "RpcContracts.Shipped.txt";

    // A baseline is a text file anyone can edit: a line longer than this is not one the fix wrote.
    private const int MaxLineLength = 4096;

    private readonly Dictionary<string, BaselineLine> _lines;

    private ContractBaseline(Dictionary<string, BaselineLine> lines) => _lines = lines;

    /// <summary>The baseline among <paramref name="files"/>, or null when the project has none (the rule is off).</summary>
    public static ContractBaseline? Find(IEnumerable<AdditionalText> files, System.Threading.CancellationToken cancellationToken)
    {
        var file = files.FirstOrDefault(f => System.IO.Path.GetFileName(f.Path) == FileName);
        return file?.GetText(cancellationToken) is { } text ? Parse(text) : null;
    }

    /// <summary>
    /// Reads a baseline. A line that is not <c>kind name value…</c> of a known kind is skipped (the info
    /// diagnostic then offers to write the entry again); a repeated name keeps its first line.
    /// </summary>
    public static ContractBaseline Parse(SourceText text)
    {
        var lines = new Dictionary<string, BaselineLine>(System.StringComparer.Ordinal);
        foreach (var line in text.Lines)
        {
            if (line.Span.Length > MaxLineLength)
            {
                continue;
            }

            var content = line.ToString().Trim();
            if (content.Length == 0 || content[0] == '#' || BaselineEntry.KeyOf(content) is not { } key)
            {
                continue;
            }

            if (!lines.ContainsKey(key))
            {
                lines.Add(key, new BaselineLine(content, line.LineNumber + 1));
            }
        }

        return new ContractBaseline(lines);
    }

    /// <summary>The baseline's line for <paramref name="key"/>, if any.</summary>
    public bool TryGet(string key, out BaselineLine line) => _lines.TryGetValue(key, out line!);

    /// <summary>The baseline's lines of <paramref name="kind"/> whose name starts with <paramref name="prefix"/> (the methods of a service, the members of a DTO).</summary>
    public IEnumerable<(string Key, BaselineLine Line)> Under(string kind, string prefix) =>
        _lines.Where(p => p.Key.StartsWith(kind + " " + prefix, System.StringComparison.Ordinal) && IsDirectlyUnder(p.Key.Substring(kind.Length + 1 + prefix.Length)))
            .Select(p => (p.Key, p.Value));

    // "Get" and "Get(Shop.Item)" are directly under "Shop.IInventory."; "Inner.Name" (a nested type's member) is not.
    private static bool IsDirectlyUnder(string rest)
    {
        var open = rest.IndexOf('(');
        return (open < 0 ? rest : rest.Substring(0, open)).IndexOf('.') < 0;
    }

    /// <summary>
    /// The entries <paramref name="service"/> has today: itself, its methods in declaration order, then the
    /// members of every DTO it carries in wire order.
    /// </summary>
    public static IReadOnlyList<BaselineEntry> EntriesOf(INamedTypeSymbol service, RpcSymbols symbols)
    {
        var serviceName = service.ToDisplayString(RpcContractRules.IdFormat);
        var entries = new List<BaselineEntry>
        {
            new(BaselineEntry.Service, serviceName, "0x" + RpcContractRules.ServiceId(service, RpcContractRules.PinnedServiceId(service)).ToString("X16", CultureInfo.InvariantCulture), service),
        };

        var methods = symbols.OwnedMethods(service).ToList();
        foreach (var method in methods)
        {
            var parameters = "(" + string.Join(",", method.Parameters.Where(p => !RpcContractRules.IsCancellationToken(p.Type)).Select(p => TypeText(p.Type))) + ")";
            var name = serviceName + "." + method.Name + (methods.Count(m => m.Name == method.Name) > 1 ? parameters : "");
            var pinned = RpcContractRules.PinnedOrdinal(method);
            var id = pinned is { } ordinal
                ? "@" + ordinal.ToString(CultureInfo.InvariantCulture)
                : "0x" + RpcContractRules.MethodId(method, null).ToString("X8", CultureInfo.InvariantCulture);
            entries.Add(new(BaselineEntry.Method, name, id + " " + parameters + " -> " + ResultText(method.ReturnType), method));
        }

        foreach (var dto in ContractTypes.ReachableDtos(service, symbols))
        {
            var members = RpcContractRules.SerializedMembers(dto);
            if (RpcContractRules.WirePositions(dto, members, out _) is not { } positions)
            {
                continue;
            }

            var dtoName = dto.ToDisplayString(RpcContractRules.IdFormat);
            foreach (var i in Enumerable.Range(0, members.Count).OrderBy(i => positions[i]))
            {
                var member = members[i];
                var position = (RpcContractRules.HasAttribute(member, RpcContractRules.RpcMemberAttribute) ? "@" : "") + positions[i].ToString(CultureInfo.InvariantCulture);
                var type = member is IPropertySymbol property ? property.Type : ((IFieldSymbol)member).Type;
                entries.Add(new(BaselineEntry.Member, dtoName + "." + member.Name, position + " " + TypeText(type), member));
            }
        }

        return entries;
    }

    private static string TypeText(ITypeSymbol type) =>
        type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(RpcContractRules.IdFormat).Replace(" ", "");

    /// <summary>What a call answers with: <c>void</c> for a task without a value, the <c>T</c> of a task, else the declared type.</summary>
    private static string ResultText(ITypeSymbol returnType) => RpcContractRules.ClassifyReturn(returnType, out var result) switch
    {
        ReturnShape.Void or ReturnShape.Task or ReturnShape.ValueTask => "void",
        ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT or ReturnShape.Promise => TypeText(result!),
        _ => TypeText(returnType),
    };
}

/// <summary>One line of a baseline as read: its text and its 1-based line number.</summary>
internal sealed record BaselineLine(string Text, int Number)
{
    /// <summary>The value: what follows the kind and the name.</summary>
    public string Value => BaselineEntry.ValueOf(Text);
}

/// <summary>One entry a contract has today, with the symbol a diagnostic about it points at.</summary>
internal sealed record BaselineEntry(string Kind, string Name, string Value, ISymbol Symbol)
{
    /// <summary>The kind of a service line.</summary>
    public const string Service = "service";

    /// <summary>The kind of a method line.</summary>
    public const string Method = "method";

    /// <summary>The kind of a DTO member line.</summary>
    public const string Member = "member";

    /// <summary>The key lines are matched by: kind and name.</summary>
    public string Key => Kind + " " + Name;

    /// <summary>The line as the code fix writes it.</summary>
    public string Line => Key + " " + Value;

    /// <summary>The key of a line (<c>kind name</c>), or null when it is not a line of a known kind with a value.</summary>
    public static string? KeyOf(string line)
    {
        var parts = line.Split(' ');
        return parts.Length >= 3 && parts[0] is Service or Method or Member && parts[1].Length > 0 ? parts[0] + " " + parts[1] : null;
    }

    /// <summary>The value of a line: what follows its key.</summary>
    public static string ValueOf(string line) => KeyOf(line) is { } key ? line.Substring(key.Length).Trim() : "";
}
