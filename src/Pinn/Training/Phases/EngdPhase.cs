using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>
/// Energy natural gradient (<see cref="EnergyNaturalGradient"/>) over the trainer's loss terms as one stacked residual
/// vector (<see cref="ResidualTerms"/>: ‖r̃‖² is exactly the trainer's weighted loss). One batch drawn when the phase
/// begins, or RAD cycles every <see cref="ResampleOptions.Every"/> iterations (<c>every: 1</c> with <c>k: 0</c>: a fresh
/// uniform batch per iteration, as Müller &amp; Zeinhofer's Poisson-5D runs): ENGD keeps no curvature memory, so a redraw
/// only re-forms r̃ and J̃ (the SPRING momentum φ, if on, is kept). Causal terms and models with a prior are refused by
/// name when the phase begins. The state (x, φ, counters and the current batch when resampling) is in the checkpoint;
/// r̃ and J̃ are recomputed from it, so a resumed phase continues bit-identically.
/// </summary>
public sealed class EngdPhase(EngdPhaseOptions options, IPhaseHost host) : ITrainingPhase
{
    ResidualObjective? _objective;
    EnergyNaturalGradient? _engd;
    readonly ResampleCycles _rad = new(); // unused without options.Resample
    readonly ResidualTerms _residuals = new(host, options.Name, "the natural gradient");

    public PhaseOptions Options => options;
    public bool LossAfterStep => true;
    public bool CanDiverge => false;
    public int Evaluations => _engd?.Evaluations ?? 0;
    /// <summary>One grid search per iteration.</summary>
    public int LineSearches => _engd?.Iterations ?? 0;
    public EnergyNaturalGradient? Optimizer => _engd;
    public ResidualObjective? Objective => _objective;

    public void Begin(BinaryReader? saved)
    {
        _objective = _residuals.Begin(saved, _rad, options.Resample, options.MaxJacobianMb, CyclesMagic);
        using var scope = NewDisposeScope();
        _engd = saved is null
            ? new EnergyNaturalGradient(_objective, _objective.Flatten(), options.Engd)
            : EnergyNaturalGradient.Resume(_objective, saved, options.Engd, host.Model.TrainableParameters[0].device);
    }

    public PhaseIteration Step(int iteration, bool log)
    {
        var engd = _engd ?? throw new InvalidOperationException("Begin the phase first");
        if (_rad.Due(options.Resample))
        {
            _rad.Redraw(host, options.Resample!);
            engd.Relinearise();
        }
        if (options.GradientTolerance > 0)
        {
            using var scope = NewDisposeScope();
            // ‖∇L‖₂ = ‖2J̃ᵀr̃‖ at the iterate, from the linearisation this step needs anyway (the dense phases' gradient_tolerance).
            if (engd.Gradient().norm().ToDouble() <= options.GradientTolerance)
                return new PhaseIteration(engd.Value, "gradient tolerance", 0, log ? _residuals.Logged() : null);
        }
        var step = engd.Step();
        var diagnostics = new Dictionary<string, double> { ["engd_step"] = step.StepSize, ["engd_rank"] = step.Rank, ["engd_rcond"] = step.Rcond };
        string? stop = _rad.AfterStep(options.Resample, step.Moved, step.Stop);
        return new PhaseIteration(engd.Value, stop, step.StepSize, log ? _residuals.Logged() : null, diagnostics);
    }

    const string CyclesMagic = "pinn.engd_cycles";

    public void SaveState(BinaryWriter w)
    {
        var engd = _engd ?? throw new InvalidOperationException("Begin the phase first");
        if (options.Resample is not null) _rad.Save(host, w, CyclesMagic);
        engd.SaveState(w);
    }

    public void LoadState(BinaryReader r) => throw new NotSupportedException("the natural-gradient phase keeps no recovery snapshots (CanDiverge is false)");

    public void Dispose() => _engd?.Dispose();
}
