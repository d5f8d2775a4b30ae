using Pinn.Geometry;
using Pinn.References;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>
/// (2+1)-D nonlinear diffusion u_t = D(u_x² + u u_xx + u_y² + u u_yy) = (D/2)Δ(u²), D = 0.05, x, y ∈ [−1, 1],
/// t ∈ [0, 1], u = 0 on the boundary, u0 a sum of three Gaussians (Kang et al., "PIG: Physics-Informed Gaussians",
/// ICLR 2025; their PIG error 2.69e-3). A porous-medium-type equation, degenerate where u = 0.
/// u0 is not 0 on the boundary: it reaches 9.4e-3 at (−1, −0.1) (the Gaussian centred at (−0.5, −0.1)), 2.3% of
/// max u0; the boundary condition holds for t &gt; 0 and the reference takes u0 itself at t = 0.
/// Reference: second-order finite differences on a 257² grid, explicit RK4 (see <see cref="NonlinearDiffusionSolver"/>).
/// </summary>
public sealed class NonlinearDiffusion : Problem
{
    public override string Name => "nonlinear_diffusion";
    public override string Description => "2-D nonlinear diffusion u_t = 0.05(|∇u|² + uΔu), u = 0 on ∂[−1,1]², three-Gaussian u0 (finite-difference RK4 reference)";

    /// <summary>Grid nodes per axis of the reference: h = 1/128, so the 65- and 129-point evaluation grids fall on nodes.</summary>
    public const int ReferencePoints = 257;

    /// <summary>u0 as a number, for the reference solver (the same formula as the symbolic initial condition).</summary>
    public static double U0(double x, double y) =>
        0.25 * Math.Exp(-((x - 0.3) * (x - 0.3) + (y - 0.2) * (y - 0.2)) / 0.1)
        + 0.4 * Math.Exp(-15 * ((x + 0.5) * (x + 0.5) + (y + 0.1) * (y + 0.1)))
        + 0.3 * Math.Exp(-20 * (x * x + (y + 0.5) * (y + 0.5)));

    public NonlinearDiffusion()
    {
        var x = Space("x", -1, 1);
        var y = Space("y", -1, 1);
        Time(0, 1);
        var u = Field("u");
        var d = Parameter("D", 0.05);
        Equation(Dt(u) == d * (Pow(Dx(u), 2) + u * Dxx(u) + Pow(Dy(u), 2) + u * Dyy(u)));
        Initial(u == 0.25 * Exp(-(Pow(x - 0.3, 2) + Pow(y - 0.2, 2)) / 0.1)
                     + 0.4 * Exp(-15 * (Pow(x + 0.5, 2) + Pow(y + 0.1, 2)))
                     + 0.3 * Exp(-20 * (Pow(x, 2) + Pow(y + 0.5, 2))));
        Dirichlet(Region.Boundary, u == 0);
        Reference = new NonlinearDiffusionReference(
            p => new NonlinearDiffusionSolver(p.ReferenceParameterValues["D"], ReferencePoints,
                                              p.Domain["x"].Min, p.Domain["x"].Max, p.Domain["y"].Min, p.Domain["y"].Max),
            U0, $"finite differences (D/2)Δ_h(u²) on {ReferencePoints}² nodes, explicit RK4 at the stability step");
    }
}
