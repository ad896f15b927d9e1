namespace RpcGen.Analyzers;

/// <summary>The keys of the properties diagnostics carry for their code fixes.</summary>
internal static class DiagnosticProperties
{
    /// <summary>RPC0021: the documentation comment id of the interface that is not an <c>[RpcService]</c>.</summary>
    public const string Interface = "Interface";

    /// <summary>RPC0027: the baseline lines a contract is missing, one per line, as the code fix writes them.</summary>
    public const string BaselineLines = "BaselineLines";

    /// <summary>RPC0023: the documentation comment id of the DTO without a usable constructor.</summary>
    public const string Dto = "Dto";
}
