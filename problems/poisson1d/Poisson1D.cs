using Pinn.Geometry;
using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>−u_xx = π² sin(πx) on [−1, 1], u(±1) = 0; exact u = sin(πx) (DeepXDE's Poisson example).</summary>
public sealed class Poisson1D : Problem
{
    public override string Name => "poisson1d";
    public override string Description => "1-D Poisson −u_xx = π² sin(πx), Dirichlet ends, exact sin(πx)";

    public Poisson1D()
    {
        var x = Space("x", -1, 1);
        var u = Field("u");
        Equation(-Dxx(u) == Pow(Pi, 2) * Sin(Pi * x));
        Dirichlet(Region.Boundary, u == 0);
        Exact(u, Sin(Pi * x));
    }
}
