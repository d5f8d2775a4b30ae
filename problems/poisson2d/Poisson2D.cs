using Pinn.Geometry;
using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>−Δu = 2π² sin(πx) sin(πy) on [0, 1]², u = 0 on the boundary; exact u = sin(πx) sin(πy).</summary>
public sealed class Poisson2D : Problem
{
    public override string Name => "poisson2d";
    public override string Description => "2-D Poisson −Δu = 2π² sin(πx)sin(πy) on the unit square, exact sin(πx)sin(πy)";

    public Poisson2D()
    {
        var x = Space("x", 0, 1);
        var y = Space("y", 0, 1);
        var u = Field("u");
        Equation(-Laplacian(u, x, y) == 2 * Pow(Pi, 2) * Sin(Pi * x) * Sin(Pi * y));
        Dirichlet(Region.Boundary, u == 0);
        Exact(u, Sin(Pi * x) * Sin(Pi * y));
    }
}
