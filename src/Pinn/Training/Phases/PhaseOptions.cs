using System.Text.Json.Serialization;
using Pinn.Training.Optimizers;

namespace Pinn.Training.Phases;

/// <summary>
/// One phase of a run: an optimiser and its budget (YAML <c>training.phases: [{adam: {steps: 2000}}, {ssbroyden: {steps: 20000}}]</c>).
/// The records below are the only place their defaults live; the training-level keys of a phase's kind
/// (<c>steps</c>, <c>lr</c>, … for Adam; <c>lbfgs_steps</c>, <c>lbfgs_history</c> for L-BFGS) override these
/// defaults for every phase of that kind that leaves them out (see <see cref="TrainingOptions.Plan"/>).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "optimizer")]
[JsonDerivedType(typeof(AdamPhaseOptions), "adam")]
[JsonDerivedType(typeof(LbfgsPhaseOptions), "lbfgs")]
[JsonDerivedType(typeof(QuasiNewtonPhaseOptions), "dense")]
[JsonDerivedType(typeof(LmPhaseOptions), "lm")]
[JsonDerivedType(typeof(EngdPhaseOptions), "engd")]
[JsonDerivedType(typeof(TrPhaseOptions), "tr")]
public abstract record PhaseOptions
{
    /// <summary>The optimiser's name as written in YAML and in log.csv's phase column.</summary>
    public abstract string Name { get; }
    /// <summary>Iterations of this phase (0: the phase is skipped).</summary>
    public abstract int Steps { get; init; }

    /// <summary>The optimiser names <c>training.phases</c> accepts.</summary>
    public static readonly IReadOnlyList<string> Names = ["adam", "lbfgs", "bfgs", "ssbfgs", "ssbroyden", "lm", "engd", "tr"];

    /// <summary>The diagnostic values this phase adds to every log line (log.csv columns beyond the losses and errors).</summary>
    [JsonIgnore] public virtual IReadOnlyList<string> Diagnostics => [];

    public override string ToString() => $"{Name} {Steps}";
}

/// <summary>Adam with linear warm-up and smooth exponential decay; points redrawn every <c>training.resample_every</c> steps.</summary>
public sealed record AdamPhaseOptions : PhaseOptions
{
    public override string Name => "adam";
    public override int Steps { get; init; } = 5000;
    /// <summary>Initial learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Exponential decay: lr · decay_rate^(step / decay_steps), applied smoothly every step.</summary>
    public double DecayRate { get; init; } = 0.9;
    public int DecaySteps { get; init; } = 1000;
    /// <summary>Linear warm-up from 0 over this many steps (0: none).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Learning rate at <paramref name="step"/> (0-based, counted from the start of the phase).</summary>
    public double LearningRateAt(int step)
    {
        double warm = WarmupSteps > 0 && step < WarmupSteps ? (step + 1.0) / WarmupSteps : 1.0;
        return LearningRate * warm * Math.Pow(DecayRate, (double)step / Math.Max(1, DecaySteps));
    }
}

/// <summary>How the L-BFGS phase chooses its step.</summary>
public enum LbfgsLineSearch
{
    /// <summary>Backtracking (halving) until the Armijo condition holds: today's default.</summary>
    Armijo,
    /// <summary>The strong-Wolfe search of the dense quasi-Newton family (OPTIMIZERS.md §2).</summary>
    StrongWolfe,
}

/// <summary>L-BFGS on one fixed batch (drawn when the phase starts).</summary>
public sealed record LbfgsPhaseOptions : PhaseOptions
{
    public override string Name => "lbfgs";
    public override int Steps { get; init; } = 1000;
    /// <summary>Curvature pairs kept.</summary>
    public int History { get; init; } = 50;
    public LbfgsLineSearch LineSearch { get; init; } = LbfgsLineSearch.Armijo;
    /// <summary>Used when <see cref="LineSearch"/> is strong Wolfe.</summary>
    public StrongWolfeOptions Wolfe { get; init; } = new();

    /// <summary>YAML spelling of <see cref="LineSearch"/>.</summary>
    public static readonly IReadOnlyDictionary<string, LbfgsLineSearch> LineSearchNames =
        new Dictionary<string, LbfgsLineSearch> { ["armijo"] = LbfgsLineSearch.Armijo, ["strong_wolfe"] = LbfgsLineSearch.StrongWolfe };
}

/// <summary>
/// Dense inverse-Hessian quasi-Newton (BFGS, SSBFGS, SSBroyden) with the strong-Wolfe line search, on one
/// fixed batch, float64 only. Its numerical settings are <see cref="QuasiNewtonOptions"/> (their defaults live there).
/// </summary>
public sealed record QuasiNewtonPhaseOptions : PhaseOptions
{
    public override string Name => NameOf(QuasiNewton.Method);
    public override int Steps { get; init; } = 1000;
    public QuasiNewtonOptions QuasiNewton { get; init; } = new();
    /// <summary>End the phase when ‖∇L‖₂ falls to this (0: never).</summary>
    public double GradientTolerance { get; init; }
    /// <summary>Residual-based resampling cycles (YAML <c>resample: {every, pool, k, c}</c>); null: one fixed batch for the whole phase.</summary>
    public ResampleOptions? Resample { get; init; }

    public static string NameOf(QuasiNewtonMethod m) => m switch
    {
        QuasiNewtonMethod.Bfgs => "bfgs",
        QuasiNewtonMethod.SsBfgs => "ssbfgs",
        _ => "ssbroyden",
    };

    public static QuasiNewtonMethod? MethodOf(string name) => name switch
    {
        "bfgs" => QuasiNewtonMethod.Bfgs,
        "ssbfgs" => QuasiNewtonMethod.SsBfgs,
        "ssbroyden" => QuasiNewtonMethod.SsBroyden,
        _ => null,
    };
}

/// <summary>
/// A Gauss–Newton-type phase (<see cref="GaussNewtonPhase{T}"/>) on the stacked scaled residuals of every loss term, float64,
/// on one batch drawn when the phase begins, or in RAD cycles with <see cref="Resample"/> (these methods keep no curvature
/// memory, so a redraw only re-linearises). The Jacobian is N × P doubles: <see cref="MaxJacobianMb"/> bounds it.
/// </summary>
public abstract record ResidualPhaseOptions : PhaseOptions
{
    /// <summary>End the phase when ‖∇L‖₂ = 2‖Jᵀr̃‖₂ falls to this (0: never).</summary>
    public double GradientTolerance { get; init; }
    /// <summary>Largest Jacobian the phase will form, in MiB (N × P × 8 bytes).</summary>
    public int MaxJacobianMb { get; init; } = 2048;
    public ResampleOptions? Resample { get; init; }
}

/// <summary>Levenberg–Marquardt (<see cref="LevenbergMarquardt"/>), optionally with geodesic acceleration.</summary>
public sealed record LmPhaseOptions : ResidualPhaseOptions
{
    public override string Name => "lm";
    public override int Steps { get; init; } = 500;
    public override IReadOnlyList<string> Diagnostics => ["lm_damping", "lm_gain", "lm_rejections"];
    public LmOptions Lm { get; init; } = new();
}

/// <summary>
/// Energy natural gradient (<see cref="EnergyNaturalGradient"/>, OPTIMIZERS.md §6–7) on the stacked scaled residuals of
/// every loss term, float64: d = G⁺∇L by a cut-off SVD or the damped dual form, a grid line search over η = 2^−k, on one
/// batch or in RAD cycles (<c>resample: {every: 1, …}</c> redraws every iteration; no curvature memory to keep).
/// </summary>
public sealed record EngdPhaseOptions : ResidualPhaseOptions
{
    public override string Name => "engd";
    public override int Steps { get; init; } = 200;
    public override IReadOnlyList<string> Diagnostics => ["engd_step", "engd_rank", "engd_rcond"];
    public EngdOptions Engd { get; init; } = new();
}

/// <summary>Trust-region Gauss–Newton with DSGNAR's adaptive-ratio radius (<see cref="TrustRegionGaussNewton"/>).</summary>
public sealed record TrPhaseOptions : ResidualPhaseOptions
{
    public override string Name => "tr";
    public override int Steps { get; init; } = 500;
    public override IReadOnlyList<string> Diagnostics => ["tr_radius", "tr_lambda", "tr_ratio", "tr_target"];
    public TrOptions Tr { get; init; } = new();
}

/// <summary>
/// RAD (Wu et al. 2023; OPTIMIZERS.md §4, §11.1): every <see cref="Every"/> iterations (and after a failed line search)
/// each point set is redrawn from <see cref="Pool"/> candidates of its region with probability
/// p ∝ ε^k / mean(ε^k) + c, ε = |residual| at the candidate, without replacement; the inverse Hessian is kept.
/// </summary>
public sealed record ResampleOptions
{
    /// <summary>Iterations per cycle (N_change: 500 in KIY/URB, 100 in VRBA).</summary>
    public int Every { get; init; } = 500;
    /// <summary>Candidates drawn per point set and cycle (100k in Wu and URB; at least the set's batch).</summary>
    public int Pool { get; init; } = 100_000;
    /// <summary>Exponent on |r| (0: uniform redraws).</summary>
    public double K { get; init; } = 1;
    /// <summary>Uniform floor added to the normalised density (Wu's code default 1; URB uses 0 for AC).</summary>
    public double C { get; init; } = 1;
}
