using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>
/// L-BFGS on one batch, drawn when the phase begins and kept: both line searches assume a deterministic
/// objective. (Residual-based redraws between cycles, issue 13 item 4, would go in <see cref="Step"/>.)
/// </summary>
sealed class LbfgsPhase(LbfgsPhaseOptions options, IPhaseHost host) : ITrainingPhase
{
    Lbfgs.Run? _run;
    bool _wantTerms;
    IReadOnlyDictionary<string, double>? _terms;

    public PhaseOptions Options => options;
    public bool LossAfterStep => true;
    public bool CanDiverge => false;
    public int Evaluations => _run?.Evaluations ?? 0;
    public int LineSearches => _run?.LineSearches ?? 0;

    public void Begin(BinaryReader? saved)
    {
        var lbfgs = new Lbfgs(host.Parameters, options.History, options.LineSearch, options.Wolfe);
        if (saved is null)
        {
            host.DrawBatch();
            _run = lbfgs.Start(Loss);
        }
        else _run = lbfgs.Resume(Loss, saved);
    }

    /// <summary>The objective; on a logged iteration it keeps the terms of the latest evaluation, which is the accepted point.</summary>
    Tensor Loss()
    {
        var (total, terms) = host.Loss(host.NewContext());
        if (_wantTerms) _terms = terms.ToDictionary(t => t.Name, t => t.Value.ToDouble());
        return total;
    }

    public PhaseIteration Step(int iteration, bool log)
    {
        var run = _run ?? throw new InvalidOperationException("Begin the phase first");
        _wantTerms = log;
        _terms = null;
        var it = run.Step();
        _wantTerms = false;
        return new PhaseIteration(it.Loss, it.Stop, it.Step, it.Moved ? _terms : null);
    }

    public void SaveState(BinaryWriter w) => (_run ?? throw new InvalidOperationException("Begin the phase first")).Save(w);
    public void LoadState(BinaryReader r) => throw new NotSupportedException("L-BFGS keeps no recovery snapshots (CanDiverge is false)");
    public void Dispose() => _run?.Dispose();
}
