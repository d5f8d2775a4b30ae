using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>
/// Levenberg–Marquardt (<see cref="LevenbergMarquardt"/>) over the trainer's loss terms as one stacked residual vector
/// (<see cref="LossTerm.ScaledResiduals"/>: ‖r̃‖² is exactly the trainer's weighted loss). One batch drawn when the phase
/// begins, or RAD cycles every <see cref="ResampleOptions.Every"/> iterations (the damping is kept, r̃ and J are re-formed
/// on the new batch). A term that is not a weighted mean square (causal weighting) or a model with a prior (the GP) is
/// refused by name when the phase begins. The state (x, μ, ν, counters and the current batch when resampling) is in the
/// checkpoint; r̃ and J are recomputed from it, so a resumed phase continues bit-identically.
/// </summary>
public sealed class LmPhase(LmPhaseOptions options, IPhaseHost host) : ITrainingPhase
{
    ResidualObjective? _objective;
    LevenbergMarquardt? _lm;
    readonly ResampleCycles _rad = new(); // unused without options.Resample
    readonly ResidualTerms _residuals = new(host, options.Name, "Levenberg–Marquardt");

    public PhaseOptions Options => options;
    public bool LossAfterStep => true;
    public bool CanDiverge => false;
    public int Evaluations => _lm?.Evaluations ?? 0;
    /// <summary>LM's trial steps play the part of a line search's trials: one "search" per iteration.</summary>
    public int LineSearches => _lm?.Iterations ?? 0;
    public LevenbergMarquardt? Optimizer => _lm;
    /// <summary>The residual objective (which Jacobian route it takes: <see cref="ResidualObjective.FastJacobians"/>).</summary>
    public ResidualObjective? Objective => _objective;

    public void Begin(BinaryReader? saved)
    {
        _objective = _residuals.Begin(saved, _rad, options.Resample, options.MaxJacobianMb, CyclesMagic);
        if (saved is null)
        {
            using var scope = NewDisposeScope();
            _lm = new LevenbergMarquardt(_objective, _objective.Flatten(), options.Lm);
        }
        else _lm = LevenbergMarquardt.Resume(_objective, saved, options.Lm, host.Model.TrainableParameters[0].device);
    }

    public PhaseIteration Step(int iteration, bool log)
    {
        var lm = _lm ?? throw new InvalidOperationException("Begin the phase first");
        if (_rad.Due(options.Resample))
        {
            _rad.Redraw(host, options.Resample!);
            lm.Relinearise();
        }
        var step = lm.Step();
        var diagnostics = new Dictionary<string, double> { ["lm_damping"] = step.Damping, ["lm_gain"] = step.GainRatio, ["lm_rejections"] = step.Rejections };
        // As in the dense phases (OPTIMIZERS.md §4): a step without decrease ends the cycle (μ is back where it began).
        string? stop = _rad.AfterStep(options.Resample, step.Moved, step.Stop);
        if (stop is null && step.Moved && options.GradientTolerance > 0)
        {
            using var scope = NewDisposeScope();
            // ‖∇L‖₂ with L = ‖r̃‖², ∇L = 2Jᵀr̃: the quantity the dense phases' gradient_tolerance bounds.
            if ((2 * lm.Gradient).norm().ToDouble() <= options.GradientTolerance) stop = "gradient tolerance";
        }
        var terms = log ? _residuals.Logged() : null;
        return new PhaseIteration(lm.Value, stop, 0, terms, diagnostics);
    }

    const string CyclesMagic = "pinn.lm_cycles";

    public void SaveState(BinaryWriter w)
    {
        var lm = _lm ?? throw new InvalidOperationException("Begin the phase first");
        if (options.Resample is not null)
        {
            _rad.Save(host, w, CyclesMagic);
        }
        lm.SaveState(w);
    }

    public void LoadState(BinaryReader r) => throw new NotSupportedException("Levenberg–Marquardt keeps no recovery snapshots (CanDiverge is false)");

    public void Dispose() => _lm?.Dispose();
}
