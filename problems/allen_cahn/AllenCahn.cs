using Pinn.Geometry;
using Pinn.References;
using static Pinn.Symbolic.Sym;

namespace Pinn.Problems;

/// <summary>
/// Allen–Cahn u_t − d u_xx + r(u³ − u) = 0, d = 1e-4, r = 5, x ∈ [−1, 1] periodic, t ∈ [0, 1],
/// u0 = x² cos(πx) (Raissi et al. 2019; the causal-training benchmark). Sharp interfaces form and
/// plain PINNs fail on it (paper: 4.98e-1). Reference: Fourier spectral ETDRK4, 512 modes.
/// </summary>
public sealed class AllenCahn : Problem
{
    public override string Name => "allen_cahn";
    public override string Description => "Allen–Cahn u_t = 1e-4 u_xx − 5u³ + 5u, periodic, u0 = x² cos(πx) (spectral ETDRK4 reference)";

    public AllenCahn()
    {
        var x = Space("x", -1, 1);
        Time(0, 1);
        var u = Field("u");
        var d = Parameter("d", 1e-4);
        var r = Parameter("r", 5);
        Equation(Dt(u) - d * Dxx(u) + r * (Pow(u, 3) - u) == 0);
        Initial(u == Pow(x, 2) * Cos(Pi * x));
        Periodic("x", u, Dx(u));
        Reference = new SpectralReference(
            p => Etdrk4Solver.AllenCahn(diffusion: p.ReferenceParameterValues["d"], reaction: p.ReferenceParameterValues["r"], points: 512),
            x0 => x0 * x0 * Math.Cos(Math.PI * x0), dt: 1e-4,
            description: "Fourier spectral ETDRK4, 512 modes");
    }
}
