using Pinn.Geometry;
using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>u_t = α u_xx on [0, 1] × [0, 1], u0 = sin(πx), u(0,t) = u(1,t) = 0; exact u = e^{−απ²t} sin(πx).</summary>
public sealed class Heat1D : Problem
{
    public override string Name => "heat1d";
    public override string Description => "1-D heat equation u_t = α u_xx (α = 0.1), exact e^{−απ²t} sin(πx)";

    public Heat1D()
    {
        var x = Space("x", 0, 1);
        var t = Time(0, 1);
        var u = Field("u");
        var alpha = Parameter("alpha", 0.1);
        Equation(Dt(u) == alpha * Dxx(u));
        Initial(u == Sin(Pi * x));
        Dirichlet(Region.Boundary, u == 0);
        Exact(u, Exp(-alpha * Pow(Pi, 2) * t) * Sin(Pi * x));
    }
}
