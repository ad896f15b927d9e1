namespace RpcGen.Samples.Calculator;

/// <summary>
/// The calculator of Cap'n Proto's C++ samples (<c>calculator.capnp</c>) as a C# contract: the ids and
/// ordinals are those of the schema, so the generated Cap'n Proto binding speaks to the C++
/// calculator server and client. The generator computes the same field layout as <c>capnp compile</c>.
/// </summary>
[RpcService(0x97983392df35cc36)]
public interface ICalculator
{
    /// <summary>Evaluates an expression; the value is usable at once, and calls on it are pipelined.</summary>
    [RpcMethod(0)]
    IValue Evaluate(Expression expression);

    /// <summary>Defines a function of <paramref name="paramCount"/> parameters whose body is <paramref name="body"/>.</summary>
    [RpcMethod(1)]
    IFunction DefFunction(int paramCount, Expression body);

    /// <summary>One of the four arithmetic operators, as a function of two parameters.</summary>
    [RpcMethod(2)]
    IFunction GetOperator(Operator op);
}

/// <summary>A value held by the server: reading it is the only way to get the number.</summary>
[RpcService(0xc3e69d34d3ee48d2)]
public interface IValue
{
    /// <summary>The number.</summary>
    [RpcMethod(0)]
    Task<double> ReadAsync();
}

/// <summary>A function of some parameters, which may live on either side.</summary>
[RpcService(0xede83a3d96840394)]
public interface IFunction
{
    /// <summary>Calls the function with <paramref name="params"/>.</summary>
    [RpcMethod(0)]
    Task<double> CallAsync(double[] @params);
}

/// <summary>The operators <see cref="ICalculator.GetOperator"/> knows.</summary>
[RpcTypeId(0x8793407861e6dfe6)]
public enum Operator
{
    /// <summary>a + b</summary>
    Add,

    /// <summary>a - b</summary>
    Subtract,

    /// <summary>a * b</summary>
    Multiply,

    /// <summary>a / b</summary>
    Divide,
}

/// <summary>An expression: the schema's unnamed union, one subtype per member, in tag order.</summary>
[RpcKnownType(typeof(Literal), 0)]
[RpcKnownType(typeof(PreviousResult), 1)]
[RpcKnownType(typeof(Parameter), 2)]
[RpcKnownType(typeof(Call), 3)]
[RpcTypeId(0xd438d7caf5548d15)]
public abstract record Expression
{
    /// <summary>A number.</summary>
    public sealed record Literal(double Value) : Expression;

    /// <summary>The value of an earlier evaluation, possibly one that has not returned yet.</summary>
    public sealed record PreviousResult(IValue Value) : Expression;

    /// <summary>A parameter of the function being defined.</summary>
    public sealed record Parameter(uint Index) : Expression;

    /// <summary>A call of <paramref name="Function"/> (the schema's <c>call</c> group).</summary>
    public sealed record Call(IFunction Function, Expression[] Params) : Expression
    {
        /// <summary>A call with the parameters listed.</summary>
        public static Call Of(IFunction function, params Expression[] parameters) => new(function, parameters);
    }
}
