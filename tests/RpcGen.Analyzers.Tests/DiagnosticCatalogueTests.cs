using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace RpcGen.Analyzers.Tests;

public sealed class DiagnosticCatalogueTests
{
    private static readonly DiagnosticDescriptor[] Descriptors = typeof(DiagnosticDescriptors)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .ToArray();

    [Fact]
    public void Ids_run_from_RPC0001_without_gaps_or_repeats()
    {
        var expected = Enumerable.Range(1, Descriptors.Length).Select(i => $"RPC{i:D4}");
        Assert.Equal(expected, Descriptors.Select(d => d.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_descriptor_has_category_help_link_to_its_README_section_and_a_single_line_message()
    {
        Assert.All(Descriptors, d =>
        {
            Assert.Equal("RpcGen", d.Category);
            Assert.Equal("https://github.com/rpcgen/rpcgen#" + d.Id.ToLowerInvariant(), d.HelpLinkUri);
            Assert.True(d.IsEnabledByDefault);
            Assert.DoesNotMatch(new Regex(@"[\r\n]"), d.MessageFormat.ToString());
            Assert.NotEmpty(d.Description.ToString());
        });
    }

    [Fact]
    public void Every_descriptor_is_reported_by_exactly_one_analyzer()
    {
        var supported = AnalyzerHarness.AllAnalyzers.SelectMany(a => a.SupportedDiagnostics).Select(d => d.Id).ToList();
        Assert.Equal(Descriptors.Select(d => d.Id).Order(StringComparer.Ordinal), supported.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Only_known_type_member_position_blocking_call_one_way_token_cap_n_proto_form_undisposed_resource_and_cap_n_proto_numbering_problems_are_warnings_by_default()
    {
        var warnings = Descriptors.Where(d => d.DefaultSeverity == DiagnosticSeverity.Warning).Select(d => d.Id).Order(StringComparer.Ordinal);
        Assert.Equal(["RPC0012", "RPC0013", "RPC0019", "RPC0020", "RPC0022", "RPC0025", "RPC0029", "RPC0030", "RPC0031"], warnings);
    }

    [Fact]
    public void Ids_are_the_constants_code_fixes_refer_to()
    {
        var constants = typeof(DiagnosticIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal);
        Assert.Equal(Descriptors.Select(d => d.Id).Order(StringComparer.Ordinal), constants);
    }
}
