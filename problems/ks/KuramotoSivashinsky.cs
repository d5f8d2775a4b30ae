using Pinn.Geometry;
using Pinn.References;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>
/// Kuramoto–Sivashinsky (regular regime) u_t + α u u_x + β u_xx + γ u_xxxx = 0, α = 5, β = 0.5,
/// γ = 0.005, x ∈ [−1, 1] periodic, t ∈ [0, 1], u0 = −sin(πx) (Wang, Sankaran &amp; Perdikaris).
/// Reference: Fourier spectral ETDRK4, 512 modes.
/// </summary>
public sealed class KuramotoSivashinsky : Problem
{
    public override string Name => "ks";
    public override string Description => "Kuramoto–Sivashinsky u_t + 5uu_x + 0.5u_xx + 0.005u_xxxx = 0, periodic, u0 = −sin(πx)";

    public KuramotoSivashinsky()
    {
        var x = Space("x", -1, 1);
        Time(0, 1);
        var u = Field("u");
        var alpha = Parameter("alpha", 5);
        var beta = Parameter("beta", 0.5);
        var gamma = Parameter("gamma", 0.005);
        Equation(Dt(u) + alpha * u * Dx(u) + beta * Dxx(u) + gamma * D(u, "x", "x", "x", "x") == 0);
        Initial(u == -Sin(Pi * x));
        Periodic("x", u, Dx(u));
        Reference = new SpectralReference(
            p => Etdrk4Solver.KuramotoSivashinsky(p.ReferenceParameterValues["alpha"], p.ReferenceParameterValues["beta"], p.ReferenceParameterValues["gamma"], points: 512),
            x0 => -Math.Sin(Math.PI * x0), dt: 1e-4,
            description: "Fourier spectral ETDRK4, 512 modes");
    }
}
