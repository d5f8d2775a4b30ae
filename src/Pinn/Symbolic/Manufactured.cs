namespace Pinn.Symbolic;

/// <summary>
/// Manufactured solutions: substitute a known solution for a field, derivatives included, to get
/// the source term that makes it exact. Sources of benchmark problems are derived this way from
/// their exact solutions, never typed by hand (a typo in a hand-written source is a wrong benchmark).
/// </summary>
public static class Manufactured
{
    /// <summary><paramref name="e"/> with every ∂^α u replaced by ∂^α of <paramref name="exact"/>[u].</summary>
    public static Expr Substitute(Expr e, IReadOnlyDictionary<string, Expr> exact) => e switch
    {
        FieldDerivative f when exact.TryGetValue(f.Field, out var sol) => f.Wrt.Aggregate(sol, Differentiation.D),
        _ => Sym.MapChildren(e, c => Substitute(c, exact)),
    };

    /// <summary>The equation <c>op(u) = op(exact)</c>: <paramref name="exact"/> solves it by construction.</summary>
    public static Equation Equation(Expr op, FieldDerivative u, Expr exact) =>
        new(op, Substitute(op, new Dictionary<string, Expr> { [u.Field] = exact }));
}
