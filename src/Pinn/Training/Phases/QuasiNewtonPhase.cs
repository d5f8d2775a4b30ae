using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>
/// BFGS, SSBFGS or SSBroyden (<see cref="DenseQuasiNewton"/>) on the flattened float64 parameters, over the
/// trainer's loss on one batch drawn when the phase begins and kept for the whole phase.
/// A failed line search takes no step; the next iteration retries once with the line-search memory reset
/// (the initial step of a fresh start, OPTIMIZERS.md §2.2), and a second failure in a row ends the phase — what
/// a SciPy/JAX cycle restart on an unchanged batch would do.
/// With <see cref="QuasiNewtonPhaseOptions.Resample"/> the phase runs in cycles (OPTIMIZERS.md §4): every
/// <see cref="ResampleOptions.Every"/> iterations, and at once after a failed line search (the record codes end the
/// cycle there), the batches are redrawn by <see cref="ResidualResampler"/> and
/// <see cref="DenseQuasiNewton.KeepCurvatureAfterResample"/> keeps H (symmetrised, reset only when not SPD), resets
/// the line-search memory and re-evaluates f and g on the new batch. Three cycles in a row without an accepted step end
/// the phase. The current batches and the cycle counters are part of the phase state.
/// </summary>
public sealed class QuasiNewtonPhase(QuasiNewtonPhaseOptions options, IPhaseHost host) : ITrainingPhase
{
    ParameterObjective? _objective;
    DenseQuasiNewton? _qn;
    bool _wantTerms;
    IReadOnlyDictionary<string, double>? _terms;
    readonly ResampleCycles _rad = new(); // unused without options.Resample

    public PhaseOptions Options => options;
    public bool LossAfterStep => true;
    public bool CanDiverge => false;
    public int Evaluations => _qn?.Evaluations ?? 0;
    public int LineSearches => _qn is null ? 0 : _qn.Iterations + _qn.LineSearchFailures;
    /// <summary>The optimiser (for tests and diagnostics); null before <see cref="Begin"/>.</summary>
    public DenseQuasiNewton? Optimizer => _qn;
    /// <summary>Resampling cycles completed (redraws done in this phase).</summary>
    public int Cycles => _rad.Cycle;
    /// <summary>What the last redraw did with H (null before the first).</summary>
    public CurvatureCheck? LastCurvatureCheck { get; private set; }

    public void Begin(BinaryReader? saved)
    {
        _objective = new ParameterObjective(host.Parameters, Loss);
        if (options.Resample is { } rs) ResidualResampler.Check(host, rs, options.Name);
        if (saved is null)
        {
            host.DrawBatch();
            _rad.Tag = host.Draws;
            using var scope = NewDisposeScope();
            _qn = new DenseQuasiNewton(_objective, _objective.Flatten(), options.QuasiNewton);
        }
        else
        {
            _qn = DenseQuasiNewton.Resume(_objective, saved, options.QuasiNewton, host.Model.TrainableParameters[0].device);
            _objective.Assign(_qn.X);
            if (options.Resample is not null) ReadCycles(saved);
        }
    }

    Tensor Loss()
    {
        var (total, terms) = host.Loss(host.NewContext());
        if (_wantTerms) _terms = terms.ToDictionary(t => t.Name, t => t.Value.ToDouble());
        return total;
    }

    public PhaseIteration Step(int iteration, bool log)
    {
        var qn = _qn ?? throw new InvalidOperationException("Begin the phase first");
        if (options.Resample is { } rs && (_rad.RedrawNow || _rad.SinceDraw >= rs.Every)) Resample();
        _wantTerms = log;
        _terms = null;
        bool hadMemory = qn.HasLineSearchMemory;
        var step = qn.Step();
        _wantTerms = false;
        _rad.SinceDraw++;
        if (options.Resample is not null)
        {
            if (step.Moved) { _rad.CycleSteps++; _rad.FailedCycles = 0; }
            else if (step.Failure != "zero gradient")
            {
                _objective!.Assign(qn.X);
                _rad.RedrawNow = true; // the cycle ends here (§4); the next iteration starts one on a new batch
                if (_rad.CycleSteps == 0 && ++_rad.FailedCycles > 2)
                    return new PhaseIteration(qn.Value, $"line search failed on {_rad.FailedCycles} fresh batches in a row ({step.Failure})");
                return new PhaseIteration(qn.Value);
            }
        }
        if (!step.Moved)
        {
            _objective!.Assign(qn.X); // the parameters hold the last trial point
            if (step.Failure == "zero gradient") return new PhaseIteration(qn.Value, "zero gradient");
            if (!hadMemory) return new PhaseIteration(qn.Value, $"line search failed ({step.Failure})");
            qn.ResetLineSearchMemory();
            return new PhaseIteration(qn.Value);
        }
        string? stop = options.GradientTolerance > 0 && qn.GradientNorm <= options.GradientTolerance ? "gradient tolerance" : null;
        return new PhaseIteration(qn.Value, stop, step.LineSearch?.Step ?? 0, _terms);
    }

    /// <summary>
    /// Starts the next cycle now (what <see cref="Step"/> does when one is due): new batches (RAD), H kept when it passes
    /// the SPD check, line-search memory reset, f and g on the new batch.
    /// </summary>
    public CurvatureCheck Resample()
    {
        var rs = options.Resample ?? throw new InvalidOperationException($"{options.Name}: no resample options");
        _ = _qn ?? throw new InvalidOperationException("Begin the phase first");
        _rad.Cycle++;
        ResidualResampler.Redraw(host, rs, _rad.Tag, _rad.Cycle);
        LastCurvatureCheck = _qn!.KeepCurvatureAfterResample();
        _rad.SinceDraw = 0;
        _rad.CycleSteps = 0;
        _rad.RedrawNow = false;
        return LastCurvatureCheck.Value;
    }

    const string CyclesMagic = "pinn.rad_cycles";

    public void SaveState(BinaryWriter w)
    {
        (_qn ?? throw new InvalidOperationException("Begin the phase first")).SaveState(w);
        if (options.Resample is null) return;
        _rad.Save(host, w, CyclesMagic);
    }

    void ReadCycles(BinaryReader r) => _rad.Load(host, r, CyclesMagic, options.Name);

    public void LoadState(BinaryReader r)
    {
        (_qn ?? throw new InvalidOperationException("Begin the phase first")).LoadState(r);
        if (options.Resample is not null) ReadCycles(r);
    }
    public void Dispose() => _qn?.Dispose();
}
