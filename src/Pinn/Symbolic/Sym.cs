namespace Pinn.Symbolic;

/// <summary>
/// Builders for expressions. Use with <c>using static Pinn.Symbolic.Sym;</c> so that problems read
/// like the maths. The builders fold numeric constants and drop neutral elements (0 + a, 1 * a),
/// which keeps derivative trees small; the operator API and the parser both go through them, so
/// the same text builds the same tree either way.
/// </summary>
public static class Sym
{
    public static readonly NamedConstant Pi = new("pi", Math.PI);
    public static readonly NamedConstant E = new("e", Math.E);

    public static Expr Const(double value) => new Constant(value);
    public static Coordinate Coord(string name) => new(name);
    public static FieldDerivative Field(string name) => new(name);
    public static Parameter Param(string name) => new(name);

    // ---- elementary functions -------------------------------------------------------------
    public static Expr Sin(Expr a) => Apply(UnaryOp.Sin, a);
    public static Expr Cos(Expr a) => Apply(UnaryOp.Cos, a);
    public static Expr Tan(Expr a) => Apply(UnaryOp.Tan, a);
    public static Expr Exp(Expr a) => Apply(UnaryOp.Exp, a);
    public static Expr Log(Expr a) => Apply(UnaryOp.Log, a);
    public static Expr Tanh(Expr a) => Apply(UnaryOp.Tanh, a);
    public static Expr Sinh(Expr a) => Apply(UnaryOp.Sinh, a);
    public static Expr Cosh(Expr a) => Apply(UnaryOp.Cosh, a);
    public static Expr Sqrt(Expr a) => Apply(UnaryOp.Sqrt, a);
    public static Expr Abs(Expr a) => Apply(UnaryOp.Abs, a);
    public static Expr Sign(Expr a) => Apply(UnaryOp.Sign, a);
    /// <summary>H(a): 1 for a &gt; 0, 0 for a &lt; 0, ½ at 0 (numpy's convention with h0 = ½); derivative 0.</summary>
    public static Expr Heaviside(Expr a) => Apply(UnaryOp.Heaviside, a);

    // ---- comparisons and selections -------------------------------------------------------
    // Comparisons are named builders, not C# operators: == already builds an Equation (see Expr).
    /// <summary>a &lt; b as 1 or 0 (derivative 0).</summary>
    public static Expr Lt(Expr a, Expr b) => Fold(BinaryOp.Lt, a, b);
    /// <summary>a ≤ b as 1 or 0 (derivative 0).</summary>
    public static Expr Le(Expr a, Expr b) => Fold(BinaryOp.Le, a, b);
    /// <summary>a &gt; b as 1 or 0 (derivative 0).</summary>
    public static Expr Gt(Expr a, Expr b) => Fold(BinaryOp.Gt, a, b);
    /// <summary>a ≥ b as 1 or 0 (derivative 0).</summary>
    public static Expr Ge(Expr a, Expr b) => Fold(BinaryOp.Ge, a, b);
    /// <summary>min(a, b): a where a ≤ b (ties pick a), else b — value and derivatives of the selected operand.</summary>
    public static Expr Min(Expr a, Expr b) => a.Equals(b) ? a : Fold(BinaryOp.Min, a, b);
    /// <summary>max(a, b): a where a ≥ b (ties pick a), else b — value and derivatives of the selected operand.</summary>
    public static Expr Max(Expr a, Expr b) => a.Equals(b) ? a : Fold(BinaryOp.Max, a, b);

    /// <summary>
    /// <paramref name="ifTrue"/> where <paramref name="cond"/> ≠ 0, else <paramref name="ifFalse"/>, as a true selection
    /// (see <see cref="Symbolic.Piecewise"/>). A numeric condition picks its branch; equal branches are that branch.
    /// </summary>
    public static Expr Piecewise(Expr cond, Expr ifTrue, Expr ifFalse)
    {
        if (IsNum(cond, out var c)) return double.IsNaN(c) ? Const(double.NaN) : c != 0 ? ifTrue : ifFalse;
        if (ifTrue.Equals(ifFalse)) return ifTrue;
        return new Piecewise(cond, ifTrue, ifFalse);
    }

    static Expr Fold(BinaryOp op, Expr a, Expr b) =>
        IsNum(a, out var x) && IsNum(b, out var y) ? Const(NumericEval.Binary(op, x, y)) : new Binary(op, a, b);

    // ---- derivatives (chain rule, see Differentiation) ------------------------------------
    /// <summary>∂/∂c1 ∂/∂c2 … of any expression, by the chain rule down to field derivatives.</summary>
    public static Expr D(Expr e, params Coordinate[] wrt) => wrt.Aggregate(e, (acc, c) => Differentiation.D(acc, c.Name));
    public static Expr D(Expr e, params string[] wrt) => wrt.Aggregate(e, Differentiation.D);
    public static Expr Dx(Expr e) => D(e, "x");
    public static Expr Dy(Expr e) => D(e, "y");
    public static Expr Dz(Expr e) => D(e, "z");
    public static Expr Dt(Expr e) => D(e, "t");
    public static Expr Dxx(Expr e) => D(e, "x", "x");
    public static Expr Dyy(Expr e) => D(e, "y", "y");
    public static Expr Dtt(Expr e) => D(e, "t", "t");

    /// <summary>Σ_c ∂²e/∂c² over the given (spatial) coordinates.</summary>
    public static Expr Laplacian(Expr e, params Coordinate[] coords) =>
        coords.Select(c => D(e, c, c)).Aggregate(Const(0), Add);

    public static Expr[] Grad(Expr e, params Coordinate[] coords) => coords.Select(c => D(e, c)).ToArray();

    public static Expr Div(IReadOnlyList<Expr> vector, params Coordinate[] coords)
    {
        if (vector.Count != coords.Length)
            throw new ArgumentException($"Div: {vector.Count} components but {coords.Length} coordinates");
        return vector.Zip(coords, (v, c) => D(v, c)).Aggregate(Const(0), Add);
    }

    // ---- simplifying constructors ---------------------------------------------------------
    static bool IsNum(Expr e, out double v)
    {
        if (e is Constant c) { v = c.Value; return true; }
        v = double.NaN;
        return false;
    }

    static bool Is(Expr e, double value) => e is Constant c && c.Value == value;

    public static Expr Add(Expr a, Expr b)
    {
        if (IsNum(a, out var x) && IsNum(b, out var y)) return Const(x + y);
        if (Is(a, 0)) return b;
        if (Is(b, 0)) return a;
        return new Binary(BinaryOp.Add, a, b);
    }

    public static Expr Sub(Expr a, Expr b)
    {
        if (IsNum(a, out var x) && IsNum(b, out var y)) return Const(x - y);
        if (Is(b, 0)) return a;
        if (Is(a, 0)) return Neg(b);
        return new Binary(BinaryOp.Sub, a, b);
    }

    public static Expr Mul(Expr a, Expr b)
    {
        if (IsNum(a, out var x) && IsNum(b, out var y)) return Const(x * y);
        if (Is(a, 0) || Is(b, 0)) return Const(0);
        if (Is(a, 1)) return b;
        if (Is(b, 1)) return a;
        if (Is(a, -1)) return Neg(b);
        if (Is(b, -1)) return Neg(a);
        return new Binary(BinaryOp.Mul, a, b);
    }

    public static Expr Div(Expr a, Expr b)
    {
        if (IsNum(a, out var x) && IsNum(b, out var y) && y != 0) return Const(x / y);
        if (Is(a, 0) && !Is(b, 0)) return Const(0);
        if (Is(b, 1)) return a;
        return new Binary(BinaryOp.Div, a, b);
    }

    public static Expr Pow(Expr a, Expr b)
    {
        if (IsNum(a, out var x) && IsNum(b, out var y)) return Const(Math.Pow(x, y));
        if (Is(b, 0)) return Const(1);
        if (Is(b, 1)) return a;
        return new Binary(BinaryOp.Pow, a, b);
    }

    public static Expr Neg(Expr a) => a switch
    {
        Constant c => Const(-c.Value),
        Unary { Op: UnaryOp.Neg } n => n.Arg,
        _ => new Unary(UnaryOp.Neg, a),
    };

    static Expr Apply(UnaryOp op, Expr a)
    {
        if (op == UnaryOp.Neg) return Neg(a);
        if (IsNum(a, out var v)) return Const(NumericEval.Unary(op, v));
        return new Unary(op, a);
    }

    /// <summary>Builds <c>op(a)</c> with the same simplifications as the named builders.</summary>
    public static Expr Apply(UnaryOp op, Expr a, bool simplify = true) => simplify ? Apply(op, a) : new Unary(op, a);

    public static Expr Apply(BinaryOp op, Expr a, Expr b) => op switch
    {
        BinaryOp.Add => Add(a, b),
        BinaryOp.Sub => Sub(a, b),
        BinaryOp.Mul => Mul(a, b),
        BinaryOp.Div => Div(a, b),
        BinaryOp.Pow => Pow(a, b),
        BinaryOp.Lt => Lt(a, b),
        BinaryOp.Le => Le(a, b),
        BinaryOp.Gt => Gt(a, b),
        BinaryOp.Ge => Ge(a, b),
        BinaryOp.Min => Min(a, b),
        BinaryOp.Max => Max(a, b),
        _ => throw new PinnException($"no scalar rule for the operator {op}"),
    };

    /// <summary>
    /// <paramref name="e"/>'s operator applied to new <paramref name="children"/> (same order as <see cref="Expr.Children"/>),
    /// through the simplifying builders; a leaf is returned as it is. Tree rewrites (substitution, setting a coordinate)
    /// go through this, so a new node type fails here loudly instead of being passed over.
    /// </summary>
    public static Expr Rebuild(Expr e, IReadOnlyList<Expr> children) => e switch
    {
        Unary u => Apply(u.Op, children[0]),
        Binary b => Apply(b.Op, children[0], children[1]),
        Symbolic.Piecewise => Piecewise(children[0], children[1], children[2]),
        Constant or NamedConstant or Coordinate or Parameter or FieldDerivative => e,
        _ => throw new PinnException($"cannot rebuild a {e.GetType().Name} node"),
    };

    /// <summary><paramref name="e"/> rebuilt with <paramref name="f"/> applied to each child.</summary>
    public static Expr MapChildren(Expr e, Func<Expr, Expr> f) =>
        e.Children.Count == 0 ? e : Rebuild(e, e.Children.Select(f).ToList());
}

/// <summary>Scalar semantics of the operators, shared by constant folding and double evaluation.</summary>
public static class NumericEval
{
    public static double Unary(UnaryOp op, double v) => op switch
    {
        UnaryOp.Neg => -v,
        UnaryOp.Sin => Math.Sin(v),
        UnaryOp.Cos => Math.Cos(v),
        UnaryOp.Tan => Math.Tan(v),
        UnaryOp.Exp => Math.Exp(v),
        UnaryOp.Log => Math.Log(v),
        UnaryOp.Tanh => Math.Tanh(v),
        UnaryOp.Sinh => Math.Sinh(v),
        UnaryOp.Cosh => Math.Cosh(v),
        UnaryOp.Sqrt => Math.Sqrt(v),
        UnaryOp.Abs => Math.Abs(v),
        UnaryOp.Sign => double.IsNaN(v) ? v : Math.Sign(v), // Math.Sign throws on NaN
        UnaryOp.Heaviside => double.IsNaN(v) ? v : v > 0 ? 1 : v < 0 ? 0 : 0.5,
        _ => throw new PinnException($"no scalar rule for the operator {op}"),
    };

    public static double Binary(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => Math.Pow(a, b),
        BinaryOp.Lt => a < b ? 1 : 0,
        BinaryOp.Le => a <= b ? 1 : 0,
        BinaryOp.Gt => a > b ? 1 : 0,
        BinaryOp.Ge => a >= b ? 1 : 0,
        // The selection the derivative rules use (a on a tie); a NaN on either side is kept.
        BinaryOp.Min => a <= b || double.IsNaN(a) ? a : b,
        BinaryOp.Max => a >= b || double.IsNaN(a) ? a : b,
        _ => throw new PinnException($"no scalar rule for the operator {op}"),
    };

    /// <summary>piecewise(c, a, b) on numbers: a where c ≠ 0, b where c = 0, NaN for a NaN condition.</summary>
    public static double Piecewise(double cond, double ifTrue, double ifFalse) =>
        double.IsNaN(cond) ? double.NaN : cond != 0 ? ifTrue : ifFalse;
}

/// <summary>Evaluates an expression that contains only numbers and named constants (e.g. <c>0.01/pi</c>).</summary>
public static class ConstantFolding
{
    public static double Evaluate(Expr e) => e switch
    {
        Constant c => c.Value,
        NamedConstant n => n.Value,
        Unary u => NumericEval.Unary(u.Op, Evaluate(u.Arg)),
        Binary b => NumericEval.Binary(b.Op, Evaluate(b.Left), Evaluate(b.Right)),
        Piecewise p => NumericEval.Piecewise(Evaluate(p.Cond), Evaluate(p.IfTrue), Evaluate(p.IfFalse)),
        _ => throw new PinnException($"'{e}' is not a constant"),
    };
}
