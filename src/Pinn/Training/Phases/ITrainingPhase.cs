using Pinn.Models;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>What one iteration of a phase did.</summary>
/// <param name="Loss">The loss this iteration measured: for Adam the loss of the step's gradient (before the update),
/// for the others the loss at the iterate after the iteration (see <see cref="ITrainingPhase.LossAfterStep"/>).</param>
/// <param name="Stop">Why the phase cannot go on after this iteration (converged, line search failed); null: it can.</param>
/// <param name="Terms">Unweighted loss terms at that point, when the phase has them (always on logged iterations).</param>
public readonly record struct PhaseIteration(
    double Loss, string? Stop = null, double LearningRate = 0,
    IReadOnlyDictionary<string, double>? Terms = null, IReadOnlyDictionary<string, double>? Diagnostics = null);

/// <summary>
/// One optimiser of a run (<see cref="PhaseOptions"/>): Adam, L-BFGS or dense quasi-Newton. The trainer's loop
/// drives every phase the same way — <see cref="Begin"/>, then <see cref="Step"/> until the budget, a stop,
/// the time limit or a cancellation — and handles logging, progress, checkpoints and divergence recovery itself.
/// A phase's whole state (Adam moments; L-BFGS pairs; dense H, x, g, line-search memory) goes through
/// <see cref="SaveState"/>/<see cref="LoadState"/>, so a run interrupted inside any phase resumes bit-identically.
/// After <see cref="Begin"/> and after every <see cref="Step"/> the model's parameters hold the phase's iterate.
/// </summary>
public interface ITrainingPhase : IDisposable
{
    PhaseOptions Options { get; }

    /// <summary>Iteration k's loss is that of the iterate after k + 1 updates (quasi-Newton), not after k (Adam).</summary>
    bool LossAfterStep { get; }

    /// <summary>
    /// Whether a step can produce a non-finite loss that calls for divergence recovery (Adam). The line-search
    /// phases reject non-finite trial points, so the trainer keeps no recovery snapshots for them (a dense H is P² doubles).
    /// </summary>
    bool CanDiverge { get; }

    /// <summary>Starts the phase at the current parameters, or, with <paramref name="saved"/>, continues a saved state.</summary>
    void Begin(BinaryReader? saved);

    /// <summary>Iteration <paramref name="iteration"/> (0-based within the phase); <paramref name="log"/>: the trainer logs this one.</summary>
    PhaseIteration Step(int iteration, bool log);

    void SaveState(BinaryWriter w);
    /// <summary>Replaces the state of a begun phase by a saved one (divergence recovery).</summary>
    void LoadState(BinaryReader r);

    /// <summary>Loss (+ gradient) evaluations so far, the starting one included.</summary>
    int Evaluations { get; }
    /// <summary>Line searches run so far (0 for Adam).</summary>
    int LineSearches { get; }
}

/// <summary>What a phase may ask of the trainer running it.</summary>
public interface IPhaseHost
{
    IFieldModel Model { get; }
    /// <summary>Everything the optimisers train: the model's parameters, the problem's trainable ones, the learned precisions.</summary>
    IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }
    /// <summary>Optimiser groups with learning-rate multipliers over <see cref="Parameters"/>.</summary>
    IReadOnlyList<(IReadOnlyList<TorchSharp.Modules.Parameter> Parameters, double LrScale)> ParameterGroups { get; }
    /// <summary>The problem's parameters (trainable ones: identified with the model).</summary>
    ProblemParameters ProblemParameters { get; }
    IReadOnlyList<LossTerm> Terms { get; }
    TrainingOptions Options { get; }
    /// <summary>Multiplier on Adam's schedule: halved by each divergence recovery.</summary>
    double LearningRateScale { get; }
    StepContext NewContext();
    /// <summary>The weighted total and each unweighted term at the current parameters and batches.</summary>
    (Tensor Total, IReadOnlyList<(string Name, Tensor Value)> Terms) Loss(StepContext context, bool rebalance = false);
    /// <summary>Redraws every batch of collocation points (counted, so that a resumed run replays it).</summary>
    void DrawBatch();
    /// <summary>Uniform redraws so far (<see cref="DrawBatch"/>; in the checkpoint): a run-wide count phases can tag their own draws with.</summary>
    int Draws { get; }
    /// <summary>The batches of collocation points the terms read (<see cref="LossTerm.ResidualSet"/>); empty for a model that brings its own points.</summary>
    IReadOnlyList<PointSet> PointSets { get; }
}

/// <summary>How one phase ended (metrics.json, <see cref="TrainingResult.Phases"/>).</summary>
public sealed record PhaseResult(string Name, int Steps, int Evaluations, int LineSearches, double FinalLoss, string Stop, double Seconds)
{
    /// <summary>Loss evaluations per line search (NaN for Adam).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double EvaluationsPerLineSearch => LineSearches > 0 ? (Evaluations - 1.0) / LineSearches : double.NaN;
}

/// <summary>Builds the phase a <see cref="PhaseOptions"/> describes.</summary>
public static class TrainingPhases
{
    public static ITrainingPhase Create(PhaseOptions options, IPhaseHost host) => options switch
    {
        AdamPhaseOptions a => new AdamPhase(a, host),
        LbfgsPhaseOptions l => new LbfgsPhase(l, host),
        QuasiNewtonPhaseOptions q => new QuasiNewtonPhase(q, host),
        LmPhaseOptions l => new LmPhase(l, host),
        EngdPhaseOptions e => new EngdPhase(e, host),
        TrPhaseOptions t => new TrPhase(t, host),
        _ => throw new PinnException($"no optimiser for phase '{options.Name}'"),
    };

    /// <summary>
    /// Refuses, before any training, a plan the model cannot run: a dense quasi-Newton phase on float32
    /// parameters or above its parameter limit (with the way out in the message).
    /// </summary>
    public static void Check(IReadOnlyList<PhaseOptions> plan, IFieldModel model)
    {
        foreach (var (l, i) in plan.Select((p, i) => (p, i)).Where(x => x.p is ResidualPhaseOptions { Steps: > 0 }))
        {
            var dtype = model.TrainableParameters.Select(p => p.dtype).FirstOrDefault(d => d != ScalarType.Float64, ScalarType.Float64);
            string method = l switch { LmPhaseOptions => "Levenberg–Marquardt", EngdPhaseOptions => "the natural gradient", _ => "the trust-region Gauss–Newton method" };
            if (dtype != ScalarType.Float64)
                throw new PinnException($"training.phases[{i}] ({l.Name}): {method} works in float64, but the model's " +
                                        $"parameters are {dtype}; set training.dtype: float64 (--dtype float64)");
        }
        foreach (var (q, i) in plan.Select((p, i) => (p, i)).Where(x => x.p is QuasiNewtonPhaseOptions { Steps: > 0 })
                                   .Select(x => ((QuasiNewtonPhaseOptions)x.p, x.i)))
        {
            var dtype = model.TrainableParameters.Select(p => p.dtype).FirstOrDefault(d => d != ScalarType.Float64, ScalarType.Float64);
            if (dtype != ScalarType.Float64)
                throw new PinnException($"training.phases[{i}] ({q.Name}): the dense quasi-Newton phases work in float64, but the model's " +
                                        $"parameters are {dtype}; set training.dtype: float64 (--dtype float64)");
            long n = model.TrainableParameters.Sum(p => p.numel());
            if (n > q.QuasiNewton.MaxParameters)
                throw new PinnException($"training.phases[{i}] ({q.Name}): it keeps a dense {n}×{n} inverse Hessian " +
                                        $"({8.0 * n * n / (1 << 20):F0} MiB, O(P²) work per iteration), and this model has {n} parameters, " +
                                        $"above max_parameters = {q.QuasiNewton.MaxParameters}; use an lbfgs phase for networks this size " +
                                        $"(e.g. {{lbfgs: {{steps: {q.Steps}, line_search: strong_wolfe}}}}), a smaller network, or raise max_parameters");
        }
    }
}
