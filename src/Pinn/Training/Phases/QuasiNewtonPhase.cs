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
/// Seam for residual-based resampling (issue 13 item 4): redraw the batch between cycles inside <see cref="Step"/>,
/// then <see cref="DenseQuasiNewton.KeepCurvatureAfterResample"/> — H is kept, the memory is reset, f and g re-evaluated.
/// </summary>
sealed class QuasiNewtonPhase(QuasiNewtonPhaseOptions options, IPhaseHost host) : ITrainingPhase
{
    ParameterObjective? _objective;
    DenseQuasiNewton? _qn;
    bool _wantTerms;
    IReadOnlyDictionary<string, double>? _terms;

    public PhaseOptions Options => options;
    public bool LossAfterStep => true;
    public bool CanDiverge => false;
    public int Evaluations => _qn?.Evaluations ?? 0;
    public int LineSearches => _qn is null ? 0 : _qn.Iterations + _qn.LineSearchFailures;
    /// <summary>The optimiser (for tests and diagnostics); null before <see cref="Begin"/>.</summary>
    public DenseQuasiNewton? Optimizer => _qn;

    public void Begin(BinaryReader? saved)
    {
        _objective = new ParameterObjective(host.Model.TrainableParameters, Loss);
        if (saved is null)
        {
            host.DrawBatch();
            using var scope = NewDisposeScope();
            _qn = new DenseQuasiNewton(_objective, _objective.Flatten(), options.QuasiNewton);
        }
        else
        {
            _qn = DenseQuasiNewton.Resume(_objective, saved, options.QuasiNewton, host.Model.TrainableParameters[0].device);
            _objective.Assign(_qn.X);
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
        _wantTerms = log;
        _terms = null;
        bool hadMemory = qn.HasLineSearchMemory;
        var step = qn.Step();
        _wantTerms = false;
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

    public void SaveState(BinaryWriter w) => (_qn ?? throw new InvalidOperationException("Begin the phase first")).SaveState(w);
    public void LoadState(BinaryReader r) => (_qn ?? throw new InvalidOperationException("Begin the phase first")).LoadState(r);
    public void Dispose() => _qn?.Dispose();
}
