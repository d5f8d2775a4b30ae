using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>What one iteration of a Gauss–Newton optimiser did, as its phase needs it.</summary>
/// <param name="Stop">A stop that begins with "no decrease" ends a RAD cycle instead of the phase.</param>
public readonly record struct GaussNewtonIteration(bool Moved, string? Stop, Dictionary<string, double> Diagnostics);

/// <summary>
/// The phase around a Gauss–Newton-type optimiser over the trainer's loss terms as one stacked residual vector
/// (<see cref="LossTerm.ScaledResiduals"/>: ‖r̃‖² is exactly the trainer's weighted loss). One batch drawn when the phase
/// begins, or RAD cycles every <see cref="ResampleOptions.Every"/> iterations (the optimiser's own state — damping, radius — is
/// kept; r̃ and J are re-formed on the new batch). A term that is not a weighted mean square (causal weighting) or a model with
/// a prior (the GP) is refused by name when the phase begins. The state (the optimiser's and the current batch when
/// resampling) is in the checkpoint; r̃ and J are recomputed from it, so a resumed phase continues bit-identically.
/// </summary>
public abstract class GaussNewtonPhase<TOptimizer>(ResidualPhaseOptions options, IPhaseHost host) : ITrainingPhase
    where TOptimizer : class, IGaussNewtonOptimizer
{
    ResidualObjective? _objective;
    TOptimizer? _optimizer;
    readonly ResampleCycles _rad = new(); // unused without options.Resample
    ResidualTerms? _terms;
    ResidualTerms Terms => _terms ??= new(host, options.Name, Method);

    protected IPhaseHost Host => host;
    /// <summary>The method's name in messages ("Levenberg–Marquardt").</summary>
    protected abstract string Method { get; }
    /// <summary>Tags the resampling state in the checkpoint.</summary>
    protected abstract string CyclesMagic { get; }
    protected abstract TOptimizer Start(ResidualObjective objective, Tensor x0);
    protected abstract TOptimizer Resume(ResidualObjective objective, BinaryReader saved, Device device);
    protected abstract GaussNewtonIteration Advance(TOptimizer optimizer);

    public PhaseOptions Options => options;
    public bool LossAfterStep => true;
    public bool CanDiverge => false;
    public int Evaluations => _optimizer?.Evaluations ?? 0;
    /// <summary>The trial steps play the part of a line search's trials: one "search" per iteration.</summary>
    public int LineSearches => _optimizer?.Iterations ?? 0;
    public TOptimizer? Optimizer => _optimizer;
    /// <summary>The residual objective (which Jacobian route it takes: <see cref="ResidualObjective.FastJacobians"/>).</summary>
    public ResidualObjective? Objective => _objective;

    public void Begin(BinaryReader? saved)
    {
        // batch (fresh start), term checks, objective, resampling check, then the size check or the saved cycles and batches
        _objective = Terms.Begin(saved, _rad, options.Resample, options.MaxJacobianMb, CyclesMagic);
        if (saved is null)
        {
            using var scope = NewDisposeScope();
            _optimizer = Start(_objective, _objective.Flatten());
        }
        else _optimizer = Resume(_objective, saved, host.Model.TrainableParameters[0].device);
    }

    public PhaseIteration Step(int iteration, bool log)
    {
        var optimizer = _optimizer ?? throw new InvalidOperationException("Begin the phase first");
        if (_rad.Due(options.Resample))
        {
            _rad.Redraw(host, options.Resample!);
            optimizer.Relinearise();
        }
        var (moved, stop, diagnostics) = Advance(optimizer);
        // As in the dense phases (OPTIMIZERS.md §4): a step without decrease ends the cycle (the optimiser's state is kept).
        stop = _rad.AfterStep(options.Resample, moved, stop);
        if (stop is null && moved && options.GradientTolerance > 0)
        {
            using var scope = NewDisposeScope();
            // ‖∇L‖₂ with L = ‖r̃‖², ∇L = 2Jᵀr̃: the quantity the dense phases' gradient_tolerance bounds.
            if ((2 * optimizer.Gradient).norm().ToDouble() <= options.GradientTolerance) stop = "gradient tolerance";
        }
        return new PhaseIteration(optimizer.Value, stop, 0, log ? Terms.Logged() : null, diagnostics);
    }

    public void SaveState(BinaryWriter w)
    {
        var optimizer = _optimizer ?? throw new InvalidOperationException("Begin the phase first");
        if (options.Resample is not null) _rad.Save(host, w, CyclesMagic);
        optimizer.SaveState(w);
    }

    public void LoadState(BinaryReader r) => throw new NotSupportedException($"{Method} keeps no recovery snapshots (CanDiverge is false)");

    public void Dispose() => _optimizer?.Dispose();
}
