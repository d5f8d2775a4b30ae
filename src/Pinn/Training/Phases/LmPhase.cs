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
        if (saved is null)
        {
            host.DrawBatch(); // before the checks evaluate the terms: a run that starts with LM has no batch yet
            _rad.Tag = host.Draws;
        }
        CheckTerms();
        _objective = new ResidualObjective(host.Model.TrainableParameters, ResidualBlocks, host.Model);
        if (options.Resample is { } rs) ResidualResampler.Check(host, rs, options.Name);
        if (saved is null)
        {
            CheckSize();
            using var scope = NewDisposeScope();
            _lm = new LevenbergMarquardt(_objective, _objective.Flatten(), options.Lm);
        }
        else
        {
            if (options.Resample is not null) ReadCycles(saved);
            _lm = LevenbergMarquardt.Resume(_objective, saved, options.Lm, host.Model.TrainableParameters[0].device);
        }
    }

    void CheckTerms()
    {
        if (host.Model.PriorLoss() is { } prior)
        {
            prior.Dispose();
            throw new PinnException($"{options.Name}: the model's loss has a prior term ({host.Model.Describe()}), which is not a residual; " +
                                    "train it with adam, lbfgs or a dense quasi-Newton phase");
        }
        using var scope = NewDisposeScope();
        var ctx = host.NewContext();
        foreach (var t in host.Terms)
            if (t.ScaledResiduals(ctx) is null)
                throw new PinnException($"{options.Name}: loss term '{t.Name}' ({t.GetType().Name}) is not a weighted mean of squares " +
                                        "(causal weighting?), so it has no residual vector for Levenberg–Marquardt; turn it off or use ssbroyden");
    }

    void CheckSize()
    {
        using var scope = NewDisposeScope();
        long n = Residuals().shape[0], p = _objective!.Count;
        double mb = 8.0 * n * p / (1 << 20);
        if (mb > options.MaxJacobianMb)
            throw new PinnException($"{options.Name}: the Jacobian would be {n} residuals × {p} parameters = {mb:F0} MiB, above " +
                                    $"max_jacobian_mb = {options.MaxJacobianMb}; use a smaller batch or network, or raise max_jacobian_mb");
    }

    Tensor Residuals() => cat(ResidualBlocks().ToList(), 0);

    /// <summary>Every term's scaled residuals, block by block (<see cref="LossTerm.ScaledResidualBlocks"/>), on one step context.</summary>
    IReadOnlyList<Tensor> ResidualBlocks()
    {
        var ctx = host.NewContext();
        return host.Terms.SelectMany(t => t.ScaledResidualBlocks(ctx)!).ToList();
    }

    public PhaseIteration Step(int iteration, bool log)
    {
        var lm = _lm ?? throw new InvalidOperationException("Begin the phase first");
        if (options.Resample is { } rs && (_rad.RedrawNow || _rad.SinceDraw >= rs.Every))
        {
            _rad.Cycle++;
            ResidualResampler.Redraw(host, rs, _rad.Tag, _rad.Cycle);
            lm.Relinearise();
            _rad.SinceDraw = 0;
            _rad.CycleSteps = 0;
            _rad.RedrawNow = false;
        }
        var step = lm.Step();
        _rad.SinceDraw++;
        var diagnostics = new Dictionary<string, double> { ["lm_damping"] = step.Damping, ["lm_gain"] = step.GainRatio, ["lm_rejections"] = step.Rejections };
        string? stop = step.Stop;
        if (options.Resample is not null)
        {
            if (step.Moved) { _rad.CycleSteps++; _rad.FailedCycles = 0; }
            else if (stop is not null && stop.StartsWith("no decrease", StringComparison.Ordinal))
            {
                // As in the dense phases (OPTIMIZERS.md §4): the cycle ends here and the next iteration starts one on a new
                // batch (μ is back where the step began); three cycles in a row without an accepted step end the phase.
                _rad.RedrawNow = true;
                stop = _rad.CycleSteps == 0 && ++_rad.FailedCycles > 2 ? $"no decrease on {_rad.FailedCycles} fresh batches in a row ({stop})" : null;
            }
        }
        if (stop is null && step.Moved && options.GradientTolerance > 0)
        {
            using var scope = NewDisposeScope();
            // ‖∇L‖₂ with L = ‖r̃‖², ∇L = 2Jᵀr̃: the quantity the dense phases' gradient_tolerance bounds.
            if ((2 * lm.Gradient).norm().ToDouble() <= options.GradientTolerance) stop = "gradient tolerance";
        }
        IReadOnlyDictionary<string, double>? terms = null;
        if (log)
        {
            using var scope = NewDisposeScope();
            terms = host.Loss(host.NewContext()).Terms.ToDictionary(t => t.Name, t => t.Value.ToDouble());
        }
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

    void ReadCycles(BinaryReader r) => _rad.Load(host, r, CyclesMagic, options.Name);

    public void LoadState(BinaryReader r) => throw new NotSupportedException("Levenberg–Marquardt keeps no recovery snapshots (CanDiverge is false)");

    public void Dispose() => _lm?.Dispose();
}
