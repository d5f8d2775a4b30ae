using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>One iteration: the accepted step (or why none was taken) and what the update did.</summary>
public sealed record QuasiNewtonStep(
    int Iteration, bool Moved, double Value, double GradientNorm, int Evaluations,
    LineSearchResult? LineSearch, UpdateReport? Update, bool ResetToIdentity, string? Failure);

public sealed record QuasiNewtonResult(int Iterations, double InitialValue, double FinalValue, double GradientNorm, int Evaluations, string StopReason);

/// <summary>What <see cref="DenseQuasiNewton.KeepCurvatureAfterResample"/> did with H.</summary>
public enum CurvatureCheck { Kept, ResetNotFinite, ResetNotPositiveDefinite, ResetAfterFailures }

/// <summary>
/// Dense inverse-Hessian quasi-Newton with a strong-Wolfe line search (OPTIMIZERS.md §2–§4, §13 A–B):
/// BFGS, SSBFGS or SSBroyden2 on a flat float64 vector of at most <see cref="QuasiNewtonOptions.MaxParameters"/>
/// entries. Holds x, f(x), ∇f(x), H (P×P) and the line search's previous value; owns these tensors
/// (outside every dispose scope) until <see cref="Dispose"/>. Each <see cref="Step"/> runs in its own
/// dispose scope. A failed line search takes no step (trap 4).
/// Resampling protocol (§4): between cycles call <see cref="KeepCurvatureAfterResample"/>.
/// </summary>
public sealed partial class DenseQuasiNewton : IDisposable
{
    IObjective _objective;
    Tensor _x, _g, _h;
    double _f;
    double? _previousValue;   // f_{k−1} for the initial-step rule; null = fake it (§2.2)
    bool _identity;           // H is exactly I (initial scaling applies at the next update)
    int _cycleIterations;     // accepted steps since the last restart
    int _immediateFailures;   // consecutive cycles whose first line search failed

    /// <summary>Starts at <paramref name="x0"/> (copied) with H = I; evaluates the objective once.</summary>
    public DenseQuasiNewton(IObjective objective, Tensor x0, QuasiNewtonOptions? options = null)
    {
        Options = options ?? new QuasiNewtonOptions();
        Options.Validate();
        CheckSize(x0, Options);
        _objective = objective;
        _x = x0.detach().clone().DetachFromDisposeScope();
        _h = eye(Size, dtype: ScalarType.Float64, device: x0.device).DetachFromDisposeScope();
        _identity = true;
        _g = empty(0).DetachFromDisposeScope();
        Reevaluate();
        InitialValue = _f;
        if (!double.IsFinite(_f) || !double.IsFinite(GradientNorm))
        {
            Dispose();
            throw new PinnException($"the objective is not finite at the starting point (f = {_f}, ‖g‖ = {GradientNorm})");
        }
    }

    public QuasiNewtonOptions Options { get; }
    /// <summary>P.</summary>
    public long Size => _x.shape[0];
    /// <summary>The current iterate (owned by the optimiser: clone it to keep it).</summary>
    public Tensor X => _x;
    public double Value => _f;
    /// <summary>∇f at <see cref="X"/> (owned by the optimiser).</summary>
    public Tensor Gradient => _g;
    public double GradientNorm { get; private set; }
    /// <summary>The inverse-Hessian approximation (owned by the optimiser; updated in place).</summary>
    public Tensor InverseHessian => _h;
    public double InitialValue { get; private set; }

    public int Iterations { get; private set; }
    /// <summary>Objective evaluations, the starting one and line-search trials included.</summary>
    public int Evaluations { get; private set; }
    public int Updates { get; private set; }
    public int SkippedUpdates { get; private set; }
    /// <summary>Resets of H to the identity (non-descent direction, failed restart check).</summary>
    public int Resets { get; private set; }
    public int LineSearchFailures { get; private set; }

    /// <summary>One iteration: direction −Hg, strong-Wolfe search, update of H. Never throws for numerical trouble.</summary>
    public QuasiNewtonStep Step()
    {
        using var scope = NewDisposeScope();
        int evaluationsBefore = Evaluations;
        bool reset = false;
        var p = _h.mv(_g).neg_();
        double slope = _g.dot(p).ToDouble();
        if (!(slope < 0))
        {
            // §3.7: H has lost positive definiteness (or finiteness) along g: start again from I.
            ResetInverseHessian();
            reset = true;
            p = _g.neg();
            slope = -GradientNorm * GradientNorm;
        }
        if (slope == 0) return new QuasiNewtonStep(Iterations, false, _f, GradientNorm, 0, null, null, reset, "zero gradient");

        Tensor? trialX = null, trialG = null;
        LinePoint Phi(double alpha)
        {
            trialX = _x.add(p, alpha);
            (double value, trialG) = Evaluate(trialX);
            return new LinePoint(value, trialG.dot(p).ToDouble());
        }

        double alpha1 = StrongWolfeLineSearch.InitialStep(_f, _previousValue, slope, GradientNorm, Options.LineSearch);
        var search = StrongWolfeLineSearch.Search(Phi, new LinePoint(_f, slope), alpha1, Options.LineSearch);
        if (!search.Succeeded)
        {
            LineSearchFailures++;
            if (_cycleIterations == 0) _immediateFailures++;
            return new QuasiNewtonStep(Iterations, false, _f, GradientNorm, Evaluations - evaluationsBefore, search, null, reset, search.Failure);
        }

        // The accepted step is the last one evaluated (StrongWolfeLineSearch guarantees it).
        var s = trialX! - _x;  // the true displacement, paired with y
        var y = trialG! - _g;
        var update = InverseHessianUpdate.Apply(_h, s, y, _g, search.Step, _identity && Options.InitialScaling, Options);
        if (update.Applied) { Updates++; _identity = false; }
        else SkippedUpdates++;

        _previousValue = _f;
        Replace(ref _x, trialX!);
        Replace(ref _g, trialG!);
        _f = search.Accepted.Value;
        GradientNorm = _g.norm().ToDouble();
        Iterations++;
        _cycleIterations++;
        _immediateFailures = 0;
        return new QuasiNewtonStep(Iterations, true, _f, GradientNorm, Evaluations - evaluationsBefore, search, update, reset, null);
    }

    /// <summary>
    /// Steps until ‖g‖₂ ≤ <paramref name="gradientTolerance"/>, <paramref name="maxIterations"/> steps, a failed line
    /// search (the cycle ends there, H kept: §13 A) or <paramref name="stop"/>.
    /// </summary>
    public QuasiNewtonResult Minimize(int maxIterations, double gradientTolerance = 0, Action<QuasiNewtonStep>? onStep = null, Func<bool>? stop = null)
    {
        int start = Iterations;
        double f0 = _f;
        string reason = "iteration limit";
        while (Iterations - start < maxIterations)
        {
            if (GradientNorm <= gradientTolerance) { reason = "gradient tolerance"; break; }
            if (stop?.Invoke() == true) { reason = "stopped"; break; }
            var step = Step();
            onStep?.Invoke(step);
            if (!step.Moved) { reason = step.Failure ?? "no step"; break; }
        }
        return new QuasiNewtonResult(Iterations - start, f0, _f, GradientNorm, Evaluations, reason);
    }

    /// <summary>Whether f_{k−1} is known (false at the start and after <see cref="ResetLineSearchMemory"/>).</summary>
    public bool HasLineSearchMemory => _previousValue.HasValue;

    /// <summary>Forget f_{k−1}: the next initial step is the first-iteration one (§2.2, trap 3).</summary>
    public void ResetLineSearchMemory() => _previousValue = null;

    public void ResetInverseHessian()
    {
        using var scope = NewDisposeScope();
        _h.zero_();
        _h.diagonal().fill_(1.0);
        _identity = true;
        Resets++;
    }

    /// <summary>
    /// The restart of §4, for when the loss has changed (new collocation points) but x has not:
    /// symmetrises H, keeps it if it is finite and passes a Cholesky test (O(P³/3), once per cycle) and
    /// otherwise resets it to I (scaled again at the next update when initial scaling is on); also resets
    /// it after <see cref="QuasiNewtonOptions.ResetAfterImmediateFailures"/> cycles in a row that failed
    /// at once. Forgets f_{k−1} and re-evaluates f and g at x with <paramref name="objective"/> (if given, it
    /// replaces the current one).
    /// </summary>
    public CurvatureCheck KeepCurvatureAfterResample(IObjective? objective = null)
    {
        if (objective is not null) _objective = objective;
        var check = CheckCurvature();
        if (check != CurvatureCheck.Kept) ResetInverseHessian();
        if (check == CurvatureCheck.ResetAfterFailures) _immediateFailures = 0;
        ResetLineSearchMemory();
        _cycleIterations = 0;
        Reevaluate();
        return check;
    }

    CurvatureCheck CheckCurvature()
    {
        using var scope = NewDisposeScope();
        if (Options.ResetAfterImmediateFailures > 0 && _immediateFailures >= Options.ResetAfterImmediateFailures)
            return CurvatureCheck.ResetAfterFailures;
        if (_identity) return CurvatureCheck.Kept;
        if (!_h.isfinite().all().ToBoolean()) return CurvatureCheck.ResetNotFinite;
        _h.copy_((_h + _h.t()).mul_(0.5));
        var (_, info) = linalg.cholesky_ex(_h);
        return info.ToInt64() == 0 ? CurvatureCheck.Kept : CurvatureCheck.ResetNotPositiveDefinite;
    }

    void Reevaluate()
    {
        using var scope = NewDisposeScope();
        var (f, g) = Evaluate(_x);
        Replace(ref _g, g);
        _f = f;
        GradientNorm = _g.norm().ToDouble();
    }

    (double, Tensor) Evaluate(Tensor x)
    {
        Evaluations++;
        var (f, g) = _objective.Evaluate(x);
        // Shape check before any mv/dot with g: a libtorch shape error in some ops aborts the process (pitfall 3).
        if (g.ndim != 1 || g.shape[0] != Size || g.dtype != ScalarType.Float64)
            throw new PinnException($"the objective returned a gradient of shape [{string.Join(", ", g.shape)}] ({g.dtype}); expected [{Size}] (Float64)");
        return (f, g);
    }

    static void Replace(ref Tensor field, Tensor value)
    {
        var old = field;
        field = value.DetachFromDisposeScope();
        old.Dispose();
    }

    static void CheckSize(Tensor x0, QuasiNewtonOptions options)
    {
        if (x0.ndim != 1 || x0.dtype != ScalarType.Float64)
            throw new PinnException($"the dense quasi-Newton optimiser needs a flat float64 vector, got shape [{string.Join(", ", x0.shape)}] ({x0.dtype})");
        long n = x0.shape[0];
        if (n > options.MaxParameters)
            throw new PinnException(
                $"{options.Method} keeps a dense {n}×{n} inverse Hessian ({8.0 * n * n / (1 << 20):F0} MiB, O(P²) work per iteration); "
                + $"this network has {n} parameters, above the limit of {options.MaxParameters}: use L-BFGS (training.lbfgs_steps) "
                + "for networks this size, or raise the limit (max_parameters)");
    }

    public void Dispose()
    {
        _x.Dispose();
        _g.Dispose();
        _h.Dispose();
    }
}
