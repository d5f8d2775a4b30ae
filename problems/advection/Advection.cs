using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>
/// Advection u_t + c u_x = 0, x ∈ (0, 2π) periodic, t ∈ [0, 1], u0 = sin x; exact u = sin(x − ct).
/// Plain PINNs fail for c ≳ 30; the literature uses c = 50…100. c is a parameter (problem.parameters.c).
/// </summary>
public sealed class Advection : Problem
{
    public override string Name => "advection";
    public override string Description => "advection u_t + c u_x = 0 (c = 50), periodic on (0, 2π), exact sin(x − ct)";

    public Advection()
    {
        var x = Space("x", 0, 2 * Math.PI);
        var t = Time(0, 1);
        var u = Field("u");
        var c = Parameter("c", 50);
        Equation(Dt(u) + c * Dx(u) == 0);
        Initial(u == Sin(x));
        Periodic("x", u);
        Exact(u, Sin(x - c * t));
    }
}
