using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>What one update did to H, with the self-scaling scalars of OPTIMIZERS.md §3.2–3.4.</summary>
public sealed record UpdateReport(
    bool Applied, string? SkipReason,
    double SY, double H, double B, double A, double Theta, double Phi, double Tau, bool Guarded)
{
    public static UpdateReport Skipped(string why, double sy = double.NaN, double h = double.NaN, double b = double.NaN, double a = double.NaN) =>
        new(false, why, sy, h, b, a, double.NaN, double.NaN, double.NaN, false);
}

/// <summary>
/// The self-scaled Broyden-family update of a dense inverse Hessian (OPTIMIZERS.md §3):
///   H⁺ = (1/τ)·[H − (Hy)(Hy)ᵀ/(yᵀHy) + φ·(yᵀHy)·vvᵀ] + ρ ssᵀ,  v = ρs − Hy/(yᵀHy),  ρ = 1/(sᵀy),
/// which satisfies H⁺y = s for every τ and φ (vᵀy = 0). φ = 1 is BFGS (§3.1 expands to this form,
/// with τ = 1), SSBFGS is φ = 1 with τ = min(1, 1/b) (§3.3), SSBroyden2 takes θ, φ, τ from §3.4.
/// The first update after H = I with initial scaling uses τ = h/(1 + aθ) — for BFGS (θ = 0) that is
/// τ₀ = yᵀy/sᵀy, i.e. H₀ = (sᵀy/yᵀy) I (§3.1).
/// The bracket is a rank-2 change in span{Hy, s}, so H is updated in place by one scaling and one
/// P×2×P <c>addmm_</c> (MKL), after one <c>mv</c> for Hy.
/// </summary>
public static class InverseHessianUpdate
{
    /// <param name="h">P×P float64, updated in place unless the report says skipped.</param>
    /// <param name="s">The step x⁺ − x.</param>
    /// <param name="y">g⁺ − g.</param>
    /// <param name="oldGradient">g at x (trap 2: b uses the OLD gradient).</param>
    /// <param name="alpha">The line-search step, s = α·(−Hg).</param>
    /// <param name="identityScaling">H is the identity and initial scaling is on.</param>
    public static UpdateReport Apply(Tensor h, Tensor s, Tensor y, Tensor oldGradient, double alpha,
                                     bool identityScaling, QuasiNewtonOptions options)
    {
        using var scope = NewDisposeScope();
        double sy = s.dot(y).ToDouble();
        double sNorm = s.norm().ToDouble(), yNorm = y.norm().ToDouble();
        if (!(sy > options.SkipTolerance * sNorm * yNorm)) return UpdateReport.Skipped($"sᵀy = {sy:G3} is too small against ‖s‖‖y‖ = {sNorm * yNorm:G3}", sy);
        double rho = 1 / sy;

        var hy = h.mv(y);
        double yhy = y.dot(hy).ToDouble();
        if (!(yhy > 0) || !double.IsFinite(yhy)) return UpdateReport.Skipped($"yᵀHy = {yhy:G3}: H is not positive definite along y", sy);

        double hk = rho * yhy;                          // h_k = yᵀHy / sᵀy
        double bk = -alpha * rho * s.dot(oldGradient).ToDouble(); // b_k = sᵀH⁻¹s / sᵀy since H⁻¹s = −αg
        double ak = bk * hk - 1;                        // ≥ 0 by Cauchy–Schwarz when H ≻ 0
        if (!double.IsFinite(hk) || !double.IsFinite(bk) || !(bk > 0))
            return UpdateReport.Skipped($"non-finite or non-positive scaling scalars (h = {hk:G3}, b = {bk:G3})", sy, hk, bk, ak);

        var (theta, phi, tau, guarded) = Scaling(options.Method, hk, bk, ak, h.shape[0], identityScaling, options.DegenerateCurvatureTolerance);
        if (!double.IsFinite(theta) || !double.IsFinite(phi) || !double.IsFinite(tau) || !(tau > 0))
            return UpdateReport.Skipped($"non-finite scaling (θ = {theta:G3}, φ = {phi:G3}, τ = {tau:G3})", sy, hk, bk, ak);

        // Expanded bracket: H/τ + cuu·uuᵀ + cus·(usᵀ + suᵀ) + css·ssᵀ with u = Hy, w = yᵀHy.
        double cuu = (phi - 1) / (tau * yhy);
        double cus = -phi * rho / tau;
        double css = phi * yhy * rho * rho / tau + rho;
        var basis = stack([hy, s], 1);                                            // P×2
        var coefficients = tensor(new[] { cuu, cus, cus, css }, dtype: ScalarType.Float64, device: h.device).reshape(2, 2);
        var weighted = basis.mm(coefficients);                                    // P×2
        // addmm_'s beta/alpha are float32 in TorchSharp: scale separately in float64, add with 1, 1.
        if (tau != 1) h.mul_(1 / tau);
        h.addmm_(weighted, basis.t());
        return new UpdateReport(true, null, sy, hk, bk, ak, theta, phi, tau, guarded);
    }

    /// <summary>θ, φ, τ of the method (§3.3, §3.4, §3.6); <paramref name="size"/> is P.</summary>
    public static (double Theta, double Phi, double Tau, bool Guarded) Scaling(
        QuasiNewtonMethod method, double h, double b, double a, long size, bool identityScaling, double degenerateTolerance)
    {
        double theta = 0, phi = 1, tau;
        bool guarded = false;
        switch (method)
        {
            case QuasiNewtonMethod.Bfgs:
                tau = 1;
                break;
            case QuasiNewtonMethod.SsBfgs:
                tau = Math.Min(1, 1 / b);
                break;
            case QuasiNewtonMethod.SsBroyden:
                if (a < degenerateTolerance * Math.Max(1, b * h))
                {
                    // §3.6: Hy ∥ s, v → 0 and the family collapses; only τ matters (σ = 1).
                    guarded = true;
                    tau = Math.Min(1, 1 / b);
                    break;
                }
                double rhoMinus = Math.Min(1, h * (1 - Math.Sqrt(a / (1 + a))));
                double thetaMinus = (rhoMinus - 1) / a;
                double thetaPlus = 1 / rhoMinus;
                theta = Math.Max(thetaMinus, Math.Min(thetaPlus, (1 - b) / b));
                double sigma = 1 + theta * a;
                // Trap 7: the exponent 1/(1 − P) is undefined for P = 1 (where a = 0 anyway).
                double sigmaHat = size > 1 ? Math.Pow(Math.Abs(sigma), 1.0 / (1 - size)) : 1;
                double rhoHat = Math.Min(1, 1 / b);
                tau = theta <= 0 ? Math.Min(rhoHat * sigmaHat, sigma) : rhoHat * Math.Min(sigmaHat, 1 / theta);
                phi = (1 - theta) / (1 + a * theta);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, null);
        }
        if (identityScaling) tau = h / (1 + a * theta);
        return (theta, phi, tau, guarded);
    }
}
