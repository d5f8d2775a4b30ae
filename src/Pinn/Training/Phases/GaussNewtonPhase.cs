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
        if (saved is null)
        {
            host.DrawBatch(); // before the checks evaluate the terms: a run that starts with this phase has no batch yet
            _rad.Tag = host.Draws;
        }
        CheckTerms();
        _objective = new ResidualObjective(host.Model.TrainableParameters, ResidualBlocks, host.Model);
        if (options.Resample is { } rs) ResidualResampler.Check(host, rs, options.Name);
        if (saved is null)
        {
            CheckSize();
            using var scope = NewDisposeScope();
            _optimizer = Start(_objective, _objective.Flatten());
        }
        else
        {
            if (options.Resample is not null) _rad.Load(host, saved, CyclesMagic, options.Name);
            _optimizer = Resume(_objective, saved, host.Model.TrainableParameters[0].device);
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
                                        $"(causal weighting?), so it has no residual vector for {Method}; turn it off or use ssbroyden");
    }

    void CheckSize()
    {
        using var scope = NewDisposeScope();
        long n = cat(ResidualBlocks().ToList(), 0).shape[0], p = _objective!.Count;
        double mb = 8.0 * n * p / (1 << 20);
        if (mb > options.MaxJacobianMb)
            throw new PinnException($"{options.Name}: the Jacobian would be {n} residuals × {p} parameters = {mb:F0} MiB, above " +
                                    $"max_jacobian_mb = {options.MaxJacobianMb}; use a smaller batch or network, or raise max_jacobian_mb");
    }

    /// <summary>Every term's scaled residuals, block by block (<see cref="LossTerm.ScaledResidualBlocks"/>), on one step context.</summary>
    IReadOnlyList<Tensor> ResidualBlocks()
    {
        var ctx = host.NewContext();
        return host.Terms.SelectMany(t => t.ScaledResidualBlocks(ctx)!).ToList();
    }

    public PhaseIteration Step(int iteration, bool log)
    {
        var optimizer = _optimizer ?? throw new InvalidOperationException("Begin the phase first");
        if (options.Resample is { } rs && (_rad.RedrawNow || _rad.SinceDraw >= rs.Every))
        {
            _rad.Cycle++;
            ResidualResampler.Redraw(host, rs, _rad.Tag, _rad.Cycle);
            optimizer.Relinearise();
            _rad.SinceDraw = 0;
            _rad.CycleSteps = 0;
            _rad.RedrawNow = false;
        }
        var (moved, stop, diagnostics) = Advance(optimizer);
        _rad.SinceDraw++;
        if (options.Resample is not null)
        {
            if (moved) { _rad.CycleSteps++; _rad.FailedCycles = 0; }
            else if (stop is not null && stop.StartsWith("no decrease", StringComparison.Ordinal))
            {
                // As in the dense phases (OPTIMIZERS.md §4): the cycle ends here and the next iteration starts one on a new
                // batch; three cycles in a row without an accepted step end the phase.
                _rad.RedrawNow = true;
                stop = _rad.CycleSteps == 0 && ++_rad.FailedCycles > 2 ? $"no decrease on {_rad.FailedCycles} fresh batches in a row ({stop})" : null;
            }
        }
        if (stop is null && moved && options.GradientTolerance > 0)
        {
            using var scope = NewDisposeScope();
            // ‖∇L‖₂ with L = ‖r̃‖², ∇L = 2Jᵀr̃: the quantity the dense phases' gradient_tolerance bounds.
            if ((2 * optimizer.Gradient).norm().ToDouble() <= options.GradientTolerance) stop = "gradient tolerance";
        }
        IReadOnlyDictionary<string, double>? terms = null;
        if (log)
        {
            using var scope = NewDisposeScope();
            terms = host.Loss(host.NewContext()).Terms.ToDictionary(t => t.Name, t => t.Value.ToDouble());
        }
        return new PhaseIteration(optimizer.Value, stop, 0, terms, diagnostics);
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
