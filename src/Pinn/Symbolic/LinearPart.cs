namespace Pinn.Symbolic;

/// <summary>
/// L u = Σ c_d · d over derivatives d of one field, with constant coefficients, that a set of expressions
/// reads only through L: each expression is c·L u + (terms free of every d). A jet can then carry L u as
/// one block instead of one block per d (the "forward Laplacian" idea): Burgers' u_t − ν u_xx, a heat or
/// Poisson operator. <see cref="Members"/> are the d, <see cref="Coefficients"/> their c_d.
/// </summary>
public sealed class LinearOperator(string field, IReadOnlyList<FieldDerivative> members, IReadOnlyList<double> coefficients)
{
    readonly int _pivot = Enumerable.Range(0, coefficients.Count).MaxBy(i => Math.Abs(coefficients[i]));

    public string Field { get; } = field;
    public IReadOnlyList<FieldDerivative> Members { get; } = members;
    public IReadOnlyList<double> Coefficients { get; } = coefficients;

    /// <summary>The member with the largest |c|: the one that stands for L u / c when an expression is evaluated.</summary>
    public FieldDerivative Pivot => Members[_pivot];
    public double PivotCoefficient => Coefficients[_pivot];

    public override string ToString() =>
        string.Join(" + ", Members.Select((m, i) => $"{Coefficients[i]:G6}·{ExprPrinter.FormatDerivative(m)}"));
}

public static class LinearPart
{
    /// <summary>
    /// The coefficient of <paramref name="d"/> if <paramref name="e"/> is affine in it (e = coefficient·d + rest,
    /// neither containing d), else null.
    /// </summary>
    public static Expr? AffineCoefficient(Expr e, FieldDerivative d)
    {
        if (e.Equals(d)) return new Constant(1);
        if (!e.Descendants().Any(n => n.Equals(d))) return new Constant(0);
        switch (e)
        {
            case Unary { Op: UnaryOp.Neg } u:
                return AffineCoefficient(u.Arg, d) is { } c ? Sym.Neg(c) : null;
            case Binary { Op: BinaryOp.Add or BinaryOp.Sub } b:
                var (l, r) = (AffineCoefficient(b.Left, d), AffineCoefficient(b.Right, d));
                return l is null || r is null ? null : b.Op == BinaryOp.Add ? Sym.Add(l, r) : Sym.Sub(l, r);
            case Binary { Op: BinaryOp.Mul } m:
                bool inLeft = Contains(m.Left, d), inRight = Contains(m.Right, d);
                if (inLeft && inRight) return null;
                return inLeft ? Times(AffineCoefficient(m.Left, d), m.Right) : Times(AffineCoefficient(m.Right, d), m.Left);
            case Binary { Op: BinaryOp.Div } q:
                return Contains(q.Right, d) ? null : AffineCoefficient(q.Left, d) is { } n ? Sym.Div(n, q.Right) : null;
            default:
                // Inside a nonlinear function, a power, a comparison, min/max or piecewise (a selection by the field is
                // not linear in it; one by coordinates has a coefficient of the coordinates, which no operator block takes).
                return null;
        }

        static Expr? Times(Expr? c, Expr factor) => c is null ? null : Sym.Mul(c, factor);
    }

    static bool Contains(Expr e, Expr node) => e.Descendants().Any(n => n.Equals(node));

    /// <summary>
    /// The largest such operator for <paramref name="field"/> over <paramref name="expressions"/> (all evaluated
    /// at the same points), or null when fewer than two derivatives qualify. A derivative qualifies when every
    /// expression is affine in it with a coefficient made of numbers and parameters only (so the expressions
    /// are jointly linear in all of them), and the expressions' coefficient vectors are proportional.
    /// </summary>
    public static LinearOperator? Find(IReadOnlyList<Expr> expressions, string field, IReadOnlyDictionary<string, double> parameters)
    {
        var candidates = expressions.SelectMany(e => e.Descendants()).OfType<FieldDerivative>()
                                    .Where(d => d.Field == field && d.Order >= 1).Distinct().ToList();
        var rows = expressions.Select(_ => new List<double>()).ToList();
        var members = new List<FieldDerivative>();
        foreach (var d in candidates)
        {
            var coefficients = expressions.Select(e => AffineCoefficient(e, d) is { } c && c.IsConstant ? Value(c, parameters) : null).ToList();
            if (coefficients.Any(c => c is null)) continue;
            members.Add(d);
            for (int i = 0; i < expressions.Count; i++) rows[i].Add(coefficients[i]!.Value);
        }
        if (members.Count < 2) return null;
        // Every expression must read the members through one combination: its row a multiple of the first non-zero row.
        var reference = rows.FirstOrDefault(r => r.Any(c => c != 0));
        if (reference is null) return null;
        foreach (var row in rows)
        {
            int k = reference.FindIndex(c => c != 0);
            double scale = row[k] / reference[k];
            for (int j = 0; j < row.Count; j++)
                if (Math.Abs(row[j] - scale * reference[j]) > 1e-12 * Math.Max(1, Math.Abs(row[j]))) return null;
        }
        var keep = Enumerable.Range(0, members.Count).Where(j => reference[j] != 0).ToList();
        return keep.Count < 2 ? null : new LinearOperator(field, keep.Select(j => members[j]).ToList(), keep.Select(j => reference[j]).ToList());
    }

    /// <summary>
    /// A constant expression's value (parameters from the table), or null when it names an unknown parameter
    /// or applies a one-argument function (a function of constants is rare in a coefficient: not folded here).
    /// Comparisons, min/max and piecewise of parameters are folded with the evaluator's semantics.
    /// </summary>
    static double? Value(Expr e, IReadOnlyDictionary<string, double> parameters) => e switch
    {
        Constant c => c.Value,
        NamedConstant n => n.Value,
        Parameter p => parameters.TryGetValue(p.Name, out var v) ? v : null,
        Unary { Op: UnaryOp.Neg } u => -Value(u.Arg, parameters),
        Binary b when Value(b.Left, parameters) is { } l && Value(b.Right, parameters) is { } r => NumericEval.Binary(b.Op, l, r),
        Piecewise p when Value(p.Cond, parameters) is { } c && Value(p.IfTrue, parameters) is { } a && Value(p.IfFalse, parameters) is { } f =>
            NumericEval.Piecewise(c, a, f),
        _ => null,
    };
}
