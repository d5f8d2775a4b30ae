namespace Pinn.Symbolic;

using static Sym;

/// <summary>
/// Symbolic differentiation by the chain rule. The recursion ends at field derivatives, which
/// simply gain one more index (∂/∂x of u_t is u_tx): the model provides those numerically.
/// </summary>
public static class Differentiation
{
    public static Expr D(Expr e, string c) => e switch
    {
        Constant or NamedConstant or Parameter => Const(0),
        Coordinate x => Const(x.Name == c ? 1 : 0),
        FieldDerivative f => f.Differentiate(c),
        Unary u => DUnary(u, c),
        Binary b => DBinary(b, c),
        // The condition is taken as locally constant: the selected branch's derivative (exact away from the switch).
        Piecewise p => Piecewise(p.Cond, D(p.IfTrue, c), D(p.IfFalse, c)),
        _ => throw new PinnException($"cannot differentiate a {e.GetType().Name} node ('{e}')"),
    };

    static Expr DUnary(Unary u, string c)
    {
        var a = u.Arg;
        var da = D(a, c);
        if (u.Op == UnaryOp.Neg) return Neg(da);
        if (da is Constant { Value: 0 }) return Const(0);
        Expr outer = u.Op switch
        {
            UnaryOp.Sin => Cos(a),
            UnaryOp.Cos => Neg(Sin(a)),
            UnaryOp.Tan => Add(1, Pow(Tan(a), 2)),
            UnaryOp.Exp => u,
            UnaryOp.Log => Div(1, a),
            UnaryOp.Tanh => Sub(1, Pow(u, 2)),
            UnaryOp.Sinh => Cosh(a),
            UnaryOp.Cosh => Sinh(a),
            UnaryOp.Sqrt => Div(0.5, u),
            UnaryOp.Abs => Sign(a),
            UnaryOp.Sign or UnaryOp.Heaviside => Const(0), // zero almost everywhere
            _ => throw new PinnException($"no derivative rule for {u.Op} ('{u}')"),
        };
        return Mul(outer, da);
    }

    static Expr DBinary(Binary b, string c)
    {
        Expr l = b.Left, r = b.Right;
        switch (b.Op)
        {
            case BinaryOp.Add: return Add(D(l, c), D(r, c));
            case BinaryOp.Sub: return Sub(D(l, c), D(r, c));
            case BinaryOp.Mul: return Add(Mul(D(l, c), r), Mul(l, D(r, c)));
            case BinaryOp.Div:
                // (l/r)' = l'/r − l r'/r²
                return Sub(Div(D(l, c), r), Div(Mul(l, D(r, c)), Pow(r, 2)));
            case BinaryOp.Pow:
                if (r.IsConstant) // (l^n)' = n l^(n−1) l'
                    return Mul(Mul(r, Pow(l, Sub(r, 1))), D(l, c));
                // (l^r)' = l^r (r' log l + r l'/l)
                return Mul(b, Add(Mul(D(r, c), Log(l)), Div(Mul(r, D(l, c)), l)));
            case BinaryOp.Lt or BinaryOp.Le or BinaryOp.Gt or BinaryOp.Ge:
                return Const(0); // piecewise constant: zero away from the switch
            case BinaryOp.Min: // the selected operand's derivative, with the value's tie rule (a on a tie)
                return Piecewise(Le(l, r), D(l, c), D(r, c));
            case BinaryOp.Max:
                return Piecewise(Ge(l, r), D(l, c), D(r, c));
            default:
                throw new PinnException($"no derivative rule for {b.Op} ('{b}')");
        }
    }
}
