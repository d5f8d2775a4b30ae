using System.Globalization;
using System.Text;

namespace Pinn.Symbolic;

/// <summary>
/// Prints an expression in the parser's own language, with only the parentheses precedence needs,
/// so that <c>Parse(Print(e))</c> rebuilds <c>e</c> exactly (numbers use round-trip formatting).
/// </summary>
public static class ExprPrinter
{
    // Precedence levels: higher binds tighter.
    const int PAdd = 1, PMul = 2, PNeg = 3, PPow = 4, PAtom = 5;

    public static string Print(Expr e)
    {
        var sb = new StringBuilder();
        Write(sb, e);
        return sb.ToString();
    }

    static int Precedence(Expr e) => e switch
    {
        Binary { Op: BinaryOp.Add or BinaryOp.Sub } => PAdd,
        Binary { Op: BinaryOp.Mul or BinaryOp.Div } => PMul,
        Binary { Op: BinaryOp.Pow } => PPow,
        Unary { Op: UnaryOp.Neg } => PNeg,
        Constant c when c.Value < 0 || double.IsNegative(c.Value) => PNeg,
        _ => PAtom,
    };

    static void Write(StringBuilder sb, Expr e)
    {
        switch (e)
        {
            case Constant c: sb.Append(FormatNumber(c.Value)); break;
            case NamedConstant n: sb.Append(n.Name); break;
            case Coordinate x: sb.Append(x.Name); break;
            case Parameter p: sb.Append(p.Name); break;
            case FieldDerivative f: sb.Append(FormatDerivative(f)); break;
            case Unary { Op: UnaryOp.Neg } n:
                sb.Append('-');
                WrapIf(sb, n.Arg, Precedence(n.Arg) < PPow);
                break;
            case Unary u:
                sb.Append(FunctionName(u.Op)).Append('(');
                Write(sb, u.Arg);
                sb.Append(')');
                break;
            case Binary b: WriteBinary(sb, b); break;
            default: throw new NotSupportedException(e.GetType().Name);
        }
    }

    static void WriteBinary(StringBuilder sb, Binary b)
    {
        int p = Precedence(b);
        // A negated operand inside a binary operator is always bracketed: "a*(-b)", never "a*-b".
        bool NegOperand(Expr x) => Precedence(x) == PNeg;
        if (b.Op == BinaryOp.Pow)
        {
            // Right-associative: the base needs brackets unless atomic; the exponent unless atomic or a power.
            WrapIf(sb, b.Left, Precedence(b.Left) <= PPow);
            sb.Append('^');
            WrapIf(sb, b.Right, Precedence(b.Right) < PPow || NegOperand(b.Right));
            return;
        }
        // Left-associative: the left operand needs brackets when it binds looser, the right also when equal.
        WrapIf(sb, b.Left, Precedence(b.Left) < p || (NegOperand(b.Left) && p > PAdd) );
        sb.Append(b.Op switch { BinaryOp.Add => " + ", BinaryOp.Sub => " - ", BinaryOp.Mul => "*", _ => "/" });
        WrapIf(sb, b.Right, Precedence(b.Right) <= p || NegOperand(b.Right));
    }

    static void WrapIf(StringBuilder sb, Expr e, bool wrap)
    {
        if (wrap) sb.Append('(');
        Write(sb, e);
        if (wrap) sb.Append(')');
    }

    public static string FormatNumber(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>u, u_x, u_xt when every name is one letter; otherwise d(u, x1, x1).</summary>
    public static string FormatDerivative(FieldDerivative f)
    {
        if (f.Order == 0) return f.Field;
        bool shorthand = !f.Field.Contains('_') && f.Wrt.All(w => w.Length == 1);
        return shorthand
            ? f.Field + "_" + string.Concat(f.Wrt)
            : $"d({f.Field}, {string.Join(", ", f.Wrt)})";
    }

    public static string FunctionName(UnaryOp op) => op switch
    {
        UnaryOp.Sin => "sin", UnaryOp.Cos => "cos", UnaryOp.Tan => "tan", UnaryOp.Exp => "exp",
        UnaryOp.Log => "log", UnaryOp.Tanh => "tanh", UnaryOp.Sinh => "sinh", UnaryOp.Cosh => "cosh",
        UnaryOp.Sqrt => "sqrt", UnaryOp.Abs => "abs", UnaryOp.Sign => "sign",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}
