namespace Pinn.Training;

/// <summary>
/// Everything a training run can be told; YAML <c>training:</c> maps onto these names
/// (snake_case there). These are the framework's only defaults.
/// </summary>
public sealed record TrainingOptions
{
    public int Steps { get; init; } = 5000;
    /// <summary>Adam's initial learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Exponential decay: lr · decay_rate^(step / decay_steps), applied smoothly every step.</summary>
    public double DecayRate { get; init; } = 0.9;
    public int DecaySteps { get; init; } = 1000;
    /// <summary>Linear warm-up from 0 over this many steps (0: none).</summary>
    public int WarmupSteps { get; init; }

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

    /// <summary>L-BFGS iterations after Adam, on a fixed batch (0: none).</summary>
    public int LbfgsSteps { get; init; }
    public int LbfgsHistory { get; init; } = 50;

    public int LogEvery { get; init; } = 100;
    /// <summary>Measure the error against the reference every this many steps (0: only at the end).</summary>
    public int EvalEvery { get; init; } = 1000;

    /// <summary>Write a checkpoint every this many Adam steps (0: only at the end of each phase).</summary>
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

    /// <summary>Stop the Adam phase after this many seconds of training (0: no limit) — for comparisons at equal wall time.</summary>
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

    /// <summary>Learning rate at <paramref name="step"/> (0-based).</summary>
    public double LearningRateAt(int step)
    {
        double warm = WarmupSteps > 0 && step < WarmupSteps ? (step + 1.0) / WarmupSteps : 1.0;
        return LearningRate * warm * Math.Pow(DecayRate, (double)step / Math.Max(1, DecaySteps));
    }
}
