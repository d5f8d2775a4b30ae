using Pinn.Geometry;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>
/// Wave u_tt = 4 u_xx on x, t ∈ [0, 1], u(0,t) = u(1,t) = 0, u(x,0) = sin(πx) + 0.5 sin(4πx),
/// u_t(x,0) = 0; exact u = sin(πx) cos(2πt) + 0.5 sin(4πx) cos(8πt) (Wang, Yu &amp; Perdikaris 2022).
/// </summary>
public sealed class Wave : Problem
{
    public override string Name => "wave";
    public override string Description => "wave u_tt = 4u_xx, exact sin(πx)cos(2πt) + 0.5 sin(4πx)cos(8πt)";

    public Wave()
    {
        var x = Space("x", 0, 1);
        var t = Time(0, 1);
        var u = Field("u");
        var c2 = Parameter("c2", 4);
        Equation(Dtt(u) == c2 * Dxx(u));
        Initial(u == Sin(Pi * x) + 0.5 * Sin(4 * Pi * x));
        Initial(Dt(u) == 0);
        Dirichlet(Region.Boundary, u == 0);
        Exact(u, Sin(Pi * x) * Cos(2 * Pi * t) + 0.5 * Sin(4 * Pi * x) * Cos(8 * Pi * t));
    }
}
