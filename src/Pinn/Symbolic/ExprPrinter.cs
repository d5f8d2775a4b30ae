using System.Globalization;
using System.Text;

namespace Pinn.Symbolic;

/// <summary>
/// Prints an expression in the parser's own language, with only the parentheses precedence needs,
/// so that <c>Parse(Print(e))</c> rebuilds <c>e</c> exactly (numbers use round-trip formatting).
/// </summary>
public static class ExprPrinter
{
    // Precedence levels: higher binds tighter. Comparisons bind loosest (as in C) and do not chain.
    const int PCmp = 0, PAdd = 1, PMul = 2, PNeg = 3, PPow = 4, PAtom = 5;

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
        Binary { Op: BinaryOp.Lt or BinaryOp.Le or BinaryOp.Gt or BinaryOp.Ge } => PCmp,
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
            case Binary { Op: BinaryOp.Min or BinaryOp.Max } m:
                WriteCall(sb, m.Op == BinaryOp.Min ? "min" : "max", m.Left, m.Right);
                break;
            case Binary b: WriteBinary(sb, b); break;
            case Piecewise p: WriteCall(sb, "piecewise", p.Cond, p.IfTrue, p.IfFalse); break;
            default: throw new PinnException($"the printer does not know {e.GetType().Name} nodes");
        }
    }

    static void WriteCall(StringBuilder sb, string name, params Expr[] args)
    {
        sb.Append(name).Append('(');
        for (int i = 0; i < args.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            Write(sb, args[i]);
        }
        sb.Append(')');
    }

    public static string ComparisonSymbol(BinaryOp op) => op switch
    {
        BinaryOp.Lt => "<", BinaryOp.Le => "<=", BinaryOp.Gt => ">", BinaryOp.Ge => ">=",
        _ => throw new PinnException($"{op} is not a comparison"),
    };

    static void WriteBinary(StringBuilder sb, Binary b)
    {
        int p = Precedence(b);
        if (p == PCmp)
        {
            // Comparisons do not chain: an operand that is itself a comparison is bracketed on either side.
            WrapIf(sb, b.Left, Precedence(b.Left) <= PCmp);
            sb.Append(' ').Append(ComparisonSymbol(b.Op)).Append(' ');
            WrapIf(sb, b.Right, Precedence(b.Right) <= PCmp);
            return;
        }
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
        sb.Append(b.Op switch { BinaryOp.Add => " + ", BinaryOp.Sub => " - ", BinaryOp.Mul => "*", BinaryOp.Div => "/",
                                 _ => throw new PinnException($"the printer does not know the operator {b.Op}") });
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
        UnaryOp.Sqrt => "sqrt", UnaryOp.Abs => "abs", UnaryOp.Sign => "sign", UnaryOp.Heaviside => "heaviside",
        _ => throw new PinnException($"the printer does not know the function {op}"),
    };
}
