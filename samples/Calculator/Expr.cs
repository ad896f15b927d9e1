using RpcGen.Capnp;

namespace RpcGen.Samples.Calculator;

/// <summary>An expression tree to send; capabilities in it are written by reference.</summary>
public abstract record Expr
{
    public void WriteTo(StructBuilder target)
    {
        var layout = CalculatorProtocol.Expression;
        switch (this)
        {
            case Literal literal:
                target.WriteUInt16(CalculatorProtocol.Tag, (ushort)layout.Fields["literal"].DiscriminantValue);
                target.WriteFloat64(layout.Slot("literal"), literal.Value);
                break;
            case Previous previous:
                target.WriteUInt16(CalculatorProtocol.Tag, (ushort)layout.Fields["previousResult"].DiscriminantValue);
                target.WriteCapability(layout.Slot("previousResult"), previous.Value);
                break;
            case Parameter parameter:
                target.WriteUInt16(CalculatorProtocol.Tag, (ushort)layout.Fields["parameter"].DiscriminantValue);
                target.WriteUInt32(layout.Slot("parameter"), parameter.Index);
                break;
            case Call call:
                target.WriteUInt16(CalculatorProtocol.Tag, (ushort)layout.Groups["call"]);
                target.WriteCapability(layout.Slot("call.function"), call.Function);
                var list = target.InitStructList(layout.Slot("call.params"), call.Params.Length, (ushort)layout.DataWords, (ushort)layout.PointerCount);
                for (var i = 0; i < call.Params.Length; i++)
                {
                    call.Params[i].WriteTo(list.GetStruct(i));
                }

                break;
        }
    }

    public sealed record Literal(double Value) : Expr;

    public sealed record Previous(Capability Value) : Expr;

    public sealed record Parameter(uint Index) : Expr;

    public sealed record Call(Capability Function, params Expr[] Params) : Expr;
}
