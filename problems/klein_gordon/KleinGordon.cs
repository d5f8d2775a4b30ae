using Pinn.Geometry;
using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>
/// Klein–Gordon (2+1)-D u_tt − (u_xx + u_yy) + u² = f, t ∈ [0, 10], x, y ∈ [−1, 1], exact
/// u = (x + y) cos(2t) + xy sin(2t) (PIG paper §5, after SPINN, Cho et al. 2023). Initial value,
/// initial velocity and Dirichlet data come from the exact solution; f is the operator applied
/// symbolically to it.
/// </summary>
public sealed class KleinGordon : Problem
{
    public override string Name => "klein_gordon";
    public override string Description => "(2+1)-D Klein–Gordon u_tt − Δu + u² = f, exact (x+y)cos(2t) + xy sin(2t)";

    public KleinGordon()
    {
        var x = Space("x", -1, 1);
        var y = Space("y", -1, 1);
        var t = Time(0, 10);
        var u = Field("u");
        var exact = (x + y) * Cos(2 * t) + x * y * Sin(2 * t);
        Expr Operator(Expr v) => D(v, t, t) - Laplacian(v, x, y) + Pow(v, 2);
        Equation(Manufactured.Equation(Operator(u), u, exact)); // the source is the operator applied to the exact solution
        Initial(u == exact);
        Initial(Dt(u) == D(exact, t));
        Dirichlet(Region.Boundary, u == exact);
        Exact(u, exact);
    }
}
