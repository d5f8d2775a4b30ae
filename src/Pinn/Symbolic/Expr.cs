namespace Pinn.Symbolic;

/// <summary>
/// An immutable expression tree: the language in which residuals, conditions and exact solutions
/// are written. Equality is structural (two trees built the same way are equal and hash alike),
/// which is what lets an evaluator compute each common sub-expression once per step.
/// <c>a == b</c> does not compare: it builds an <see cref="Equation"/>, so problems read like the
/// maths (<c>Dt(u) + u*Dx(u) == nu*Dxx(u)</c>). Compare trees with <see cref="Equals(Expr)"/>.
/// There are no <c>&lt;</c>, <c>&gt;</c> operators on expressions: with <c>==</c> building an equation, an
/// <c>a &lt; b</c> that builds a tree instead of answering would read like a test of the trees; comparisons in the
/// language are built by name (<see cref="Sym.Lt"/>, <see cref="Sym.Le"/>, <see cref="Sym.Gt"/>, <see cref="Sym.Ge"/>).
/// </summary>
public abstract class Expr : IEquatable<Expr>
{
    int? _hash;

    /// <summary>Direct sub-expressions, left to right.</summary>
    public abstract IReadOnlyList<Expr> Children { get; }

    public abstract bool Equals(Expr? other);
    protected abstract int ComputeHash();

    public sealed override bool Equals(object? obj) => obj is Expr e && Equals(e);
    public sealed override int GetHashCode() => _hash ??= ComputeHash();
    public override string ToString() => ExprPrinter.Print(this);

    /// <summary>True when the tree contains no coordinate and no field, so every derivative of it is zero.</summary>
    public bool IsConstant => this switch
    {
        Coordinate or FieldDerivative => false,
        _ => Children.All(c => c.IsConstant),
    };

    /// <summary>All nodes of the tree, parents before children.</summary>
    public IEnumerable<Expr> Descendants()
    {
        yield return this;
        foreach (var c in Children)
            foreach (var d in c.Descendants())
                yield return d;
    }

    public static implicit operator Expr(double value) => new Constant(value);

    public static Expr operator +(Expr a, Expr b) => Sym.Add(a, b);
    public static Expr operator -(Expr a, Expr b) => Sym.Sub(a, b);
    public static Expr operator *(Expr a, Expr b) => Sym.Mul(a, b);
    public static Expr operator /(Expr a, Expr b) => Sym.Div(a, b);
    public static Expr operator -(Expr a) => Sym.Neg(a);
    public static Expr operator +(Expr a) => a;

    /// <summary>Builds the equation <c>a = b</c>; it does not compare trees.</summary>
    public static Equation operator ==(Expr a, Expr b) => new(a, b);

    [Obsolete("Expr != Expr is not an equation; compare trees with !a.Equals(b).", error: true)]
    public static Equation operator !=(Expr a, Expr b) => throw new NotSupportedException();
}

/// <summary>A numeric literal.</summary>
public sealed class Constant(double value) : Expr
{
    public double Value { get; } = value;
    public override IReadOnlyList<Expr> Children => [];
    public override bool Equals(Expr? other) => other is Constant c && c.Value.Equals(Value);
    protected override int ComputeHash() => HashCode.Combine(1, Value);
}

/// <summary>A named mathematical constant (pi, e): kept by name so a problem prints as written.</summary>
public sealed class NamedConstant(string name, double value) : Expr
{
    public string Name { get; } = name;
    public double Value { get; } = value;
    public override IReadOnlyList<Expr> Children => [];
    public override bool Equals(Expr? other) => other is NamedConstant c && c.Name == Name;
    protected override int ComputeHash() => HashCode.Combine(2, Name);
}

/// <summary>An independent variable of the problem (x, y, t).</summary>
public sealed class Coordinate(string name) : Expr
{
    public string Name { get; } = name;
    public override IReadOnlyList<Expr> Children => [];
    public override bool Equals(Expr? other) => other is Coordinate c && c.Name == Name;
    protected override int ComputeHash() => HashCode.Combine(3, Name);
}

/// <summary>
/// A named problem parameter (a viscosity, a wave speed). Its value is not part of the tree: the
/// problem's parameter table holds it, so a config can override it and a trainer can learn it.
/// </summary>
public sealed class Parameter(string name) : Expr
{
    public string Name { get; } = name;
    public override IReadOnlyList<Expr> Children => [];
    public override bool Equals(Expr? other) => other is Parameter p && p.Name == Name;
    protected override int ComputeHash() => HashCode.Combine(4, Name);
}

/// <summary>
/// ∂^α u: a derivative of an unknown field with respect to coordinates. An empty multi-index is the
/// field itself. The multi-index is kept sorted, so u_xt and u_tx are the same node.
/// </summary>
public sealed class FieldDerivative : Expr
{
    public FieldDerivative(string field, IEnumerable<string>? wrt = null)
    {
        Field = field;
        Wrt = (wrt ?? []).OrderBy(n => n, StringComparer.Ordinal).ToArray();
    }

    public string Field { get; }

    /// <summary>The coordinates differentiated by, with repetition, sorted (u_xxt → [t, x, x]).</summary>
    public IReadOnlyList<string> Wrt { get; }

    public int Order => Wrt.Count;
    public override IReadOnlyList<Expr> Children => [];

    /// <summary>This derivative differentiated once more by <paramref name="coordinate"/>.</summary>
    public FieldDerivative Differentiate(string coordinate) => new(Field, Wrt.Append(coordinate));

    public override bool Equals(Expr? other) =>
        other is FieldDerivative f && f.Field == Field && f.Wrt.SequenceEqual(Wrt);

    protected override int ComputeHash()
    {
        var h = new HashCode();
        h.Add(5);
        h.Add(Field);
        foreach (var w in Wrt) h.Add(w);
        return h.ToHashCode();
    }
}

/// <summary>
/// One-argument operators. <see cref="Heaviside"/> is the step H(x): 1 for x &gt; 0, 0 for x &lt; 0, ½ at 0 (numpy's
/// <c>heaviside(x, 0.5)</c>), NaN for NaN; like <see cref="Sign"/> its derivative is taken as 0 (zero almost everywhere).
/// </summary>
public enum UnaryOp { Neg, Sin, Cos, Tan, Exp, Log, Tanh, Sinh, Cosh, Sqrt, Abs, Sign, Heaviside }

public sealed class Unary(UnaryOp op, Expr arg) : Expr
{
    public UnaryOp Op { get; } = op;
    public Expr Arg { get; } = arg;
    public override IReadOnlyList<Expr> Children => [Arg];
    public override bool Equals(Expr? other) => other is Unary u && u.Op == Op && u.Arg.Equals(Arg);
    protected override int ComputeHash() => HashCode.Combine(6, Op, Arg.GetHashCode());
}

/// <summary>
/// Two-argument operators. The comparisons <see cref="Lt"/>, <see cref="Le"/>, <see cref="Gt"/>, <see cref="Ge"/> yield
/// 1 or 0 (IEEE: a comparison with NaN is 0) and have derivative 0 everywhere (they are locally constant away from the
/// switch). <see cref="Min"/> and <see cref="Max"/> select one operand, value and derivatives, the left one on a tie
/// (min: a where a ≤ b, else b; max: a where a ≥ b, else b); a NaN operand gives NaN.
/// </summary>
public enum BinaryOp { Add, Sub, Mul, Div, Pow, Lt, Le, Gt, Ge, Min, Max }

public sealed class Binary(BinaryOp op, Expr left, Expr right) : Expr
{
    public BinaryOp Op { get; } = op;
    public Expr Left { get; } = left;
    public Expr Right { get; } = right;
    public override IReadOnlyList<Expr> Children => [Left, Right];

    public override bool Equals(Expr? other) =>
        other is Binary b && b.Op == Op && b.Left.Equals(Left) && b.Right.Equals(Right);

    protected override int ComputeHash() => HashCode.Combine(7, Op, Left.GetHashCode(), Right.GetHashCode());
}

/// <summary>
/// <c>piecewise(cond, a, b)</c>: <paramref name="ifTrue"/> where <paramref name="cond"/> ≠ 0, <paramref name="ifFalse"/> where
/// it is 0, NaN where it is NaN. A true selection (torch.where), not cond·a + (1 − cond)·b: an inf or NaN in the branch not
/// taken does not reach the value. Derivatives are the selected branch's (the condition is taken as locally constant,
/// which holds away from the switch). Children: [cond, a, b].
/// <para>
/// Limitation (autograd): the gradient with respect to trainable weights flows into both branches' graphs, the unselected
/// one with zero weight; where that branch's own backward is inf or NaN (1/u at u = 0, sqrt(u) at u ≤ 0, log(u) at u ≤ 0)
/// 0·inf makes the gradient NaN although the value is finite. Branches of coordinates and parameters only (a forcing term,
/// a potential) have no graph and are always safe; for a branch of the fields, write it finite everywhere (e.g.
/// sqrt(max(u, 1e-12)) rather than sqrt(u)).
/// </para>
/// </summary>
public sealed class Piecewise(Expr cond, Expr ifTrue, Expr ifFalse) : Expr
{
    public Expr Cond { get; } = cond;
    public Expr IfTrue { get; } = ifTrue;
    public Expr IfFalse { get; } = ifFalse;
    public override IReadOnlyList<Expr> Children => [Cond, IfTrue, IfFalse];

    public override bool Equals(Expr? other) =>
        other is Piecewise p && p.Cond.Equals(Cond) && p.IfTrue.Equals(IfTrue) && p.IfFalse.Equals(IfFalse);

    protected override int ComputeHash() => HashCode.Combine(8, Cond.GetHashCode(), IfTrue.GetHashCode(), IfFalse.GetHashCode());
}

/// <summary><c>Lhs = Rhs</c>; as a residual it is <c>Lhs − Rhs</c>, driven to zero by training.</summary>
public sealed class Equation(Expr lhs, Expr rhs)
{
    public Expr Lhs { get; } = lhs;
    public Expr Rhs { get; } = rhs;
    public Expr Residual => Sym.Sub(Lhs, Rhs);

    /// <summary>A bare expression is the equation <c>expr = 0</c>.</summary>
    public static implicit operator Equation(Expr residual) => new(residual, 0.0);

    public override string ToString() =>
        Rhs is Constant { Value: 0 } ? $"{Lhs} = 0" : $"{Lhs} = {Rhs}";
}
