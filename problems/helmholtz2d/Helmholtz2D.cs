using Pinn.Geometry;
using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>
/// Helmholtz u_xx + u_yy + k²u = q on [−1, 1]², exact u = sin(a1·πx) sin(a2·πy), Dirichlet data from
/// the exact solution (PIG paper §5, after Wang, Teng &amp; Perdikaris 2021). Defaults a1 = 1, a2 = 4,
/// k = 1 (u = sin(πx) sin(4πy)); the hard case is a1 = a2 = 10. The source q is not typed in: it is
/// the operator applied symbolically to the exact solution, so it is right by construction.
/// </summary>
public sealed class Helmholtz2D : Problem
{
    public override string Name => "helmholtz2d";
    public override string Description => "2-D Helmholtz Δu + k²u = q on [−1, 1]², exact sin(a1·πx) sin(a2·πy) (a1 = 1, a2 = 4, k = 1)";

    public Helmholtz2D()
    {
        var x = Space("x", -1, 1);
        var y = Space("y", -1, 1);
        var u = Field("u");
        var k = Parameter("k", 1);
        var a1 = Parameter("a1", 1);
        var a2 = Parameter("a2", 4);
        var exact = Sin(a1 * Pi * x) * Sin(a2 * Pi * y);
        Expr Operator(Expr v) => Laplacian(v, x, y) + Pow(k, 2) * v;
        Equation(Manufactured.Equation(Operator(u), u, exact)); // the source is the operator applied to the exact solution
        Dirichlet(Region.Boundary, u == exact);
        Exact(u, exact);
    }
}
