namespace Pinn.Training.Optimizers;

/// <summary>Which member of the (self-scaled) Broyden family updates the dense inverse Hessian.</summary>
public enum QuasiNewtonMethod
{
    /// <summary>Plain BFGS (OPTIMIZERS.md §3.1).</summary>
    Bfgs,
    /// <summary>Self-scaled BFGS, Al-Baali's τ = min(1, 1/b) ("SSBFGS_AB", §3.3, recommended in §13 B).</summary>
    SsBfgs,
    /// <summary>SSBroyden2, the record method (§3.4) with the a ≈ 0 guard of §3.6.</summary>
    SsBroyden,
}

/// <summary>One strong-Wolfe attempt: curvature constant c2 and the most bracketing evaluations.</summary>
public sealed record WolfeAttempt(double C2, int MaxIterations);

/// <summary>
/// Strong-Wolfe line search (OPTIMIZERS.md §2.2–2.4). The defaults are the vRBA record constants
/// (§2.1, §13 A) and the JAX/SciPy zoom safeguards.
/// </summary>
public sealed record StrongWolfeOptions
{
    /// <summary>Sufficient-decrease constant of (W1).</summary>
    public double C1 { get; init; } = 1e-4;
    /// <summary>
    /// Tried in order until one succeeds; each attempt restarts from the same initial step
    /// (vRBA: c2 = 0.9 with ≤ 15 bracketing evaluations, then 0.8 with ≤ 10, then 0.5 with ≤ 25).
    /// </summary>
    public IReadOnlyList<WolfeAttempt> Attempts { get; init; } = [new(0.9, 15), new(0.8, 10), new(0.5, 25)];
    /// <summary>Zoom gives up after this many trials (JAX: 30).</summary>
    public int MaxZoomIterations { get; init; } = 30;
    /// <summary>Zoom gives up when the bracket is this short (JAX float64: 1e-10; 1e-5 would suit float32).</summary>
    public double ZoomIntervalFloor { get; init; } = 1e-10;
    /// <summary>Bracketing multiplies the trial step by this while φ keeps decreasing steeply.</summary>
    public double ExpansionFactor { get; init; } = 2;
    /// <summary>A cubic trial must lie this fraction of the bracket away from both ends.</summary>
    public double CubicSafeguard { get; init; } = 0.2;
    /// <summary>A quadratic trial must lie this fraction of the bracket away from both ends.</summary>
    public double QuadraticSafeguard { get; init; } = 0.1;
    /// <summary>α₁ = min(<see cref="MaxInitialStep"/>, factor · 2(f_k − f_{k−1}) / φ′(0)) (§2.2).</summary>
    public double InitialStepFactor { get; init; } = 1.01;
    public double MaxInitialStep { get; init; } = 1;

    /// <summary>Throws a <see cref="PinnException"/> naming the first inconsistent setting.</summary>
    public void Validate()
    {
        if (!(C1 > 0 && C1 < 1)) throw new PinnException($"line search: c1 = {C1} must lie in (0, 1)");
        if (Attempts.Count == 0) throw new PinnException("line search: at least one (c2, max_iterations) attempt is needed");
        foreach (var a in Attempts)
        {
            if (!(a.C2 > C1 && a.C2 < 1)) throw new PinnException($"line search: c2 = {a.C2} must lie in (c1 = {C1}, 1)");
            if (a.MaxIterations < 1) throw new PinnException($"line search: max_iterations = {a.MaxIterations} must be at least 1");
        }
        if (MaxZoomIterations < 1) throw new PinnException($"line search: max_zoom_iterations = {MaxZoomIterations} must be at least 1");
        if (!(ZoomIntervalFloor >= 0)) throw new PinnException($"line search: zoom_interval_floor = {ZoomIntervalFloor} must be ≥ 0");
        if (!(ExpansionFactor > 1)) throw new PinnException($"line search: expansion_factor = {ExpansionFactor} must exceed 1");
        if (!(CubicSafeguard is > 0 and < 0.5) || !(QuadraticSafeguard is > 0 and < 0.5))
            throw new PinnException("line search: interpolation safeguards must lie in (0, 0.5)");
        if (!(InitialStepFactor > 0) || !(MaxInitialStep > 0)) throw new PinnException("line search: initial step factor and cap must be positive");
    }
}

/// <summary>
/// Dense inverse-Hessian quasi-Newton (OPTIMIZERS.md §3, §13 A–B). The one place for its defaults.
/// </summary>
public sealed record QuasiNewtonOptions
{
    public QuasiNewtonMethod Method { get; init; } = QuasiNewtonMethod.SsBroyden;
    public StrongWolfeOptions LineSearch { get; init; } = new();
    /// <summary>Keep H when sᵀy ≤ tolerance · ‖s‖ ‖y‖ (§3.7: the record codes have no such skip).</summary>
    public double SkipTolerance { get; init; } = 1e-12;
    /// <summary>
    /// SSBroyden's a ≈ 0 guard (§3.6): when a &lt; tolerance · max(1, b h), use θ = 0, φ = 1,
    /// τ = min(1, 1/b) instead of the θ rule, whose (ρ⁻ − 1)/a blows up.
    /// </summary>
    public double DegenerateCurvatureTolerance { get; init; } = 1e-10;
    /// <summary>Refuse larger problems: H costs 8P² bytes and O(P²) per iteration (L-BFGS is the alternative).</summary>
    public int MaxParameters { get; init; } = 6000;
    /// <summary>Scale the identity at the first update after H = I (H₀ = (sᵀy / yᵀy) I for BFGS; §3.1, §3.4 item 6).</summary>
    public bool InitialScaling { get; init; } = true;
    /// <summary>
    /// When this many consecutive cycles fail their very first line search, the next
    /// <see cref="DenseQuasiNewton.KeepCurvatureAfterResample"/> resets H to the identity (§13 A; 0: never).
    /// </summary>
    public int ResetAfterImmediateFailures { get; init; } = 2;

    public void Validate()
    {
        LineSearch.Validate();
        if (!(SkipTolerance >= 0)) throw new PinnException($"quasi-Newton: skip_tolerance = {SkipTolerance} must be ≥ 0");
        if (!(DegenerateCurvatureTolerance >= 0)) throw new PinnException($"quasi-Newton: degenerate_curvature_tolerance = {DegenerateCurvatureTolerance} must be ≥ 0");
        if (MaxParameters < 1) throw new PinnException($"quasi-Newton: max_parameters = {MaxParameters} must be at least 1");
        if (ResetAfterImmediateFailures < 0) throw new PinnException("quasi-Newton: reset_after_immediate_failures must be ≥ 0");
    }
}
