using Pinn.Training.Phases;

namespace Pinn.Training;

/// <summary>
/// Everything a training run can be told; YAML <c>training:</c> maps onto these names
/// (snake_case there). These are the framework's only defaults.
/// </summary>
public sealed record TrainingOptions
{
    static readonly AdamPhaseOptions AdamDefaults = new();
    static readonly LbfgsPhaseOptions LbfgsDefaults = new();

    /// <summary>
    /// The optimiser phases, in order (YAML <c>training.phases</c>); null: the shorthand <see cref="Steps"/> Adam steps
    /// then <see cref="LbfgsSteps"/> L-BFGS iterations. Use <see cref="Plan"/>, which resolves the shorthand.
    /// </summary>
    public IReadOnlyList<PhaseOptions>? Phases { get; init; }

    /// <summary>What the trainer runs: <see cref="Phases"/>, or [adam, lbfgs] from the shorthand keys (L-BFGS left out at 0 steps).</summary>
    public IReadOnlyList<PhaseOptions> Plan => Phases ?? (LbfgsSteps > 0 ? [AdamShorthand, LbfgsShorthand] : [AdamShorthand]);

    /// <summary>The Adam phase the shorthand keys describe; also the defaults of every Adam phase in <see cref="Phases"/>.</summary>
    public AdamPhaseOptions AdamShorthand => new()
    {
        Steps = Steps, LearningRate = LearningRate, DecayRate = DecayRate, DecaySteps = DecaySteps, WarmupSteps = WarmupSteps,
    };

    /// <summary>The L-BFGS phase of the shorthand; also the defaults of every L-BFGS phase (steps: 1000 while lbfgs_steps is 0).</summary>
    public LbfgsPhaseOptions LbfgsShorthand => new()
    {
        Steps = LbfgsSteps > 0 ? LbfgsSteps : LbfgsDefaults.Steps, History = LbfgsHistory,
    };

    /// <summary>Shorthand (and default of Adam phases): Adam steps.</summary>
    public int Steps { get; init; } = AdamDefaults.Steps;
    /// <summary>Adam's initial learning rate.</summary>
    public double LearningRate { get; init; } = AdamDefaults.LearningRate;
    /// <summary>Exponential decay: lr · decay_rate^(step / decay_steps), applied smoothly every step.</summary>
    public double DecayRate { get; init; } = AdamDefaults.DecayRate;
    public int DecaySteps { get; init; } = AdamDefaults.DecaySteps;
    /// <summary>Linear warm-up from 0 over this many steps (0: none).</summary>
    public int WarmupSteps { get; init; } = AdamDefaults.WarmupSteps;

    /// <summary>Points per step by loss term name, or by kind: pde (interior), ic, bc.</summary>
    public IReadOnlyDictionary<string, int> Batch { get; init; } =
        new Dictionary<string, int> { ["pde"] = 2048, ["ic"] = 256, ["bc"] = 256 };
    /// <summary>Loss weights λ_k by term name or kind (default 1).</summary>
    public IReadOnlyDictionary<string, double> Weights { get; init; } = new Dictionary<string, double>();

    /// <summary>Causal weighting of time-dependent residuals (off by default).</summary>
    public CausalOptions Causal { get; init; } = new();

    /// <summary>Gradient-norm loss balancing (off by default).</summary>
    public BalancingOptions Balancing { get; init; } = new();
    /// <summary>Time marching: split [t0, T] into this many windows, each starting from the previous one's prediction (1: off).</summary>
    public int TimeWindows { get; init; } = 1;

    /// <summary>uniform | sobol | lhs.</summary>
    public string Sampler { get; init; } = "uniform";
    /// <summary>Draw new collocation points every this many steps (1: every step; 0: never).</summary>
    public int ResampleEvery { get; init; } = 1;

    /// <summary>Shorthand: L-BFGS iterations after Adam, on a fixed batch (0: none).</summary>
    public int LbfgsSteps { get; init; }
    public int LbfgsHistory { get; init; } = LbfgsDefaults.History;

    public int LogEvery { get; init; } = 100;
    /// <summary>Measure the error against the reference every this many steps (0: only at the end).</summary>
    public int EvalEvery { get; init; } = 1000;

    /// <summary>Write a checkpoint every this many iterations of a phase (0: only at the end of each phase).</summary>
    public int CheckpointEvery { get; init; } = 1000;
    /// <summary>Keep an in-memory copy of the last good state every this many steps, for divergence recovery.</summary>
    public int SnapshotEvery { get; init; } = 100;
    /// <summary>Non-finite losses survived (restore last good state, halve the learning rate) before the run stops.</summary>
    public int MaxRecoveries { get; init; } = 5;

    /// <summary>
    /// How field derivatives are computed for neural models: autograd (nested reverse mode), jet
    /// (Taylor mode, one forward pass; mlp/modified_mlp only) or auto (jet when the residuals need
    /// third or higher derivatives, where the benchmark shows it faster; autograd otherwise).
    /// </summary>
    public string Derivatives { get; init; } = "auto";

    /// <summary>
    /// Stop training after this many seconds (0: no limit) — for comparisons at equal wall time: the phase
    /// running then ends and later phases are skipped; the run counts as completed.
    /// </summary>
    public double TimeLimit { get; init; }

    public int Seed { get; init; }
    /// <summary>float32 | float64.</summary>
    public string DType { get; init; } = "float32";
    /// <summary>auto | cpu | cuda.</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Intra-op threads for libtorch (0: leave libtorch's default).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// The GP solver's defaults (Fang et al. 2024): full-batch Adam at a constant 1e-2, float64.
    /// </summary>
    public static TrainingOptions GpDefaults => new()
    {
        LearningRate = 1e-2,
        DecayRate = 1.0,
        DType = "float64",
        Sampler = "grid",
        ResampleEvery = 0,
    };

    public int BatchFor(string name, string kind) =>
        Batch.TryGetValue(name, out var n) ? n : Batch.TryGetValue(kind, out n) ? n : kind == "pde" ? 2048 : 256;

    public double WeightFor(string name, string kind) =>
        Weights.TryGetValue(name, out var w) ? w : Weights.TryGetValue(kind, out w) ? w : 1.0;

    /// <summary>Learning rate of the shorthand Adam phase at <paramref name="step"/> (0-based).</summary>
    public double LearningRateAt(int step) => AdamShorthand.LearningRateAt(step);
}
