using Pinn.Geometry;
using Pinn.References;
using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>
/// Viscous Burgers u_t + u u_x = ν u_xx, ν = 0.01/π, x ∈ [−1, 1], t ∈ [0, 1], u0 = −sin(πx),
/// u(±1, t) = 0 (Raissi et al. 2019). A steep front forms at x = 0 near t ≈ 0.3; the reference
/// is the exact Cole–Hopf solution.
/// </summary>
public sealed class Burgers1D : Problem
{
    public override string Name => "burgers";
    public override string Description => "viscous Burgers u_t + u u_x = ν u_xx, ν = 0.01/π, u0 = −sin(πx) (Cole–Hopf reference)";

    public Burgers1D()
    {
        var x = Space("x", -1, 1);
        Time(0, 1);
        var u = Field("u");
        var nu = Parameter("nu", 0.01 / Math.PI);
        Equation(Dt(u) + u * Dx(u) == nu * Dxx(u));
        Initial(u == -Sin(Pi * x));
        Dirichlet(Region.Boundary, u == 0);
        Reference = new BurgersReference();
    }
}
