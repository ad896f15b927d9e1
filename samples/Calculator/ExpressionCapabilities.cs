using RpcGen.Capnp;

namespace RpcGen.Samples.Calculator;

/// <summary>
/// The capabilities an expression names (functions it calls, values it reads). Over Cap'n Proto a call
/// lends the capabilities in its parameters to the implementation until it returns; an expression used
/// after that (a function body, an evaluation still running) keeps them with <see cref="Retain"/> and
/// lets go of them with <see cref="Release"/>.
/// </summary>
internal static class ExpressionCapabilities
{
    /// <summary>Keeps every capability of <paramref name="expression"/> beyond the call that received it; returns the expression.</summary>
    public static Expression Retain(Expression expression)
    {
        Visit(expression, static service => CapnpCapability.Retain(service));
        return expression;
    }

    /// <summary>Releases every capability of <paramref name="expression"/> (disposes each that is disposable).</summary>
    public static void Release(Expression expression) => Visit(expression, static service => (service as IDisposable)?.Dispose());

    /// <summary>Releases what <see cref="Retain"/> kept: the Cap'n Proto proxies (other transports lend nothing).</summary>
    public static void ReleaseRetained(Expression expression) => Visit(expression, static service => (service as ICapnpProxy)?.Dispose());

    private static void Visit(Expression expression, Action<object> action)
    {
        switch (expression)
        {
            case Expression.PreviousResult { Value: { } value }:
                action(value);
                break;
            case Expression.Call call:
                if (call.Function is { } function)
                {
                    action(function);
                }

                foreach (var parameter in call.Params)
                {
                    Visit(parameter, action);
                }

                break;
        }
    }
}
