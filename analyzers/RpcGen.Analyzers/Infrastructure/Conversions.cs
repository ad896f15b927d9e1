using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace RpcGen.Analyzers;

/// <summary>Sees through what the compiler wraps around a value (implicit conversions, parentheses).</summary>
internal static class Conversions
{
    /// <summary>The operation under any conversions and parentheses around <paramref name="operation"/>.</summary>
    public static IOperation? Unwrap(IOperation? operation)
    {
        while (operation is IConversionOperation or IParenthesizedOperation)
        {
            operation = operation is IConversionOperation conversion ? conversion.Operand : ((IParenthesizedOperation)operation).Operand;
        }

        return operation;
    }
}
