using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace RpcGen.Analyzers;

/// <summary>
/// Reports code that blocks a thread on a remote call (RPC0019): <c>.Result</c>, <c>.Wait()</c> or
/// <c>.GetAwaiter().GetResult()</c> on the task a method of an <c>[RpcService]</c> interface returned (a
/// proxy or a callback). Inside a handler that runs on the connection's reader (inline execution) the
/// answer can never be read and the connection deadlocks; elsewhere it holds a thread for a round trip.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BlockingCallAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.BlockingCall);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (RpcSymbols.Create(start.Compilation) is not { } symbols)
            {
                return;
            }

            start.RegisterOperationAction(
                operation => AnalyzeResult(operation, symbols),
                OperationKind.PropertyReference);
            start.RegisterOperationAction(
                operation => AnalyzeInvocation(operation, symbols),
                OperationKind.Invocation);
        });
    }

    // call().Result
    private static void AnalyzeResult(OperationAnalysisContext context, RpcSymbols symbols)
    {
        var reference = (IPropertyReferenceOperation)context.Operation;
        if (reference.Property.Name == "Result" && IsTask(reference.Property.ContainingType) && RemoteCall(reference.Instance, symbols) is { } call)
        {
            Report(context, call, ".Result");
        }
    }

    // call().Wait() and call().GetAwaiter().GetResult()
    private static void AnalyzeInvocation(OperationAnalysisContext context, RpcSymbols symbols)
    {
        var invocation = (IInvocationOperation)context.Operation;
        switch (invocation.TargetMethod.Name)
        {
            case "Wait" when IsTask(invocation.TargetMethod.ContainingType) && RemoteCall(invocation.Instance, symbols) is { } call:
                Report(context, call, ".Wait()");
                break;
            case "GetResult" when Conversions.Unwrap(invocation.Instance) is IInvocationOperation { TargetMethod.Name: "GetAwaiter" } awaiter &&
                                  IsTask(awaiter.TargetMethod.ContainingType) && RemoteCall(awaiter.Instance, symbols) is { } call:
                Report(context, call, ".GetAwaiter().GetResult()");
                break;
        }
    }

    private static void Report(OperationAnalysisContext context, IInvocationOperation call, string how) =>
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.BlockingCall,
            context.Operation.Syntax.GetLocation(),
            how,
            call.TargetMethod.ContainingType.Name + "." + call.TargetMethod.Name));

    /// <summary>The call of an <c>[RpcService]</c> method that produced <paramref name="instance"/>, or null.</summary>
    private static IInvocationOperation? RemoteCall(IOperation? instance, RpcSymbols symbols) =>
        Conversions.Unwrap(instance) is IInvocationOperation call && symbols.IsService(call.TargetMethod.ContainingType) ? call : null;

    private static bool IsTask(INamedTypeSymbol type) =>
        type.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks" && type.Name is "Task" or "ValueTask";
}
