using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>How the damped Gauss–Newton system is solved (OPTIMIZERS.md §5.2).</summary>
public enum LmSolve
{
    /// <summary>Primal when P ≤ N, dual otherwise.</summary>
    Auto,
    /// <summary>(JᵀJ + μI) h = −Jᵀr̃ by Cholesky, P × P.</summary>
    Primal,
    /// <summary>(JJᵀ + μI) α = r̃, h = −Jᵀα by Cholesky, N × N.</summary>
    Dual,
}

/// <summary>Settings of <see cref="LevenbergMarquardt"/>; the defaults are OPTIMIZERS.md §13 C.</summary>
public sealed record LmOptions
{
    /// <summary>τ of the initial damping μ₀ = τ · max diag(JᵀJ) (Madsen–Nielsen–Tingleff; 1e-6 for a good start, 1e-3 otherwise).</summary>
    public double InitialDamping { get; init; } = 1e-3;
    public LmSolve Solve { get; init; } = LmSolve.Auto;
    /// <summary>Rejected trial steps allowed within one iteration before it reports no progress.</summary>
    public int MaxRejections { get; init; } = 10; // μ grows ≥ 2^55× within 10; each trial costs a Cholesky and an evaluation
    /// <summary>Stop when ‖h‖ ≤ StepTolerance · (‖x‖ + StepTolerance) (0: never).</summary>
    public double StepTolerance { get; init; } = 1e-14;
    /// <summary>
    /// Geodesic acceleration (OPTIMIZERS.md §5.3): δ = v + ½a with a from a finite-difference r_vv; on by default (one extra
    /// residual evaluation per trial; 45–2600× lower final errors on every PINN record case at equal wall time, results/optim.md).
    /// </summary>
    public bool Geodesic { get; init; } = true;
    /// <summary>h of r_vv ≈ (2/h)·((r̃(x + hv) − r̃(x))/h − Jv), in units of the velocity v (Transtrum–Sethna: 0.1).</summary>
    public double GeodesicStep { get; init; } = 0.1;
    /// <summary>α of the acceptance test ‖a‖/‖v‖ ≤ α (jaxopt's contribution_ratio_threshold convention, not Transtrum's 2‖a‖/‖v‖).</summary>
    public double AccelerationRatio { get; init; } = 0.75;

    public void Validate()
    {
        if (!(InitialDamping > 0) || !double.IsFinite(InitialDamping)) throw new PinnException($"damping must be a positive number (got {InitialDamping})");
        if (MaxRejections < 1) throw new PinnException($"max_rejections must be at least 1 (got {MaxRejections})");
        if (!(StepTolerance >= 0)) throw new PinnException($"step_tolerance must be ≥ 0 (got {StepTolerance})");
        if (!(GeodesicStep > 0) || !double.IsFinite(GeodesicStep)) throw new PinnException($"geodesic_step must be a positive number (got {GeodesicStep})");
        if (!(AccelerationRatio > 0)) throw new PinnException($"acceleration_ratio must be positive (got {AccelerationRatio})");
    }
}

/// <summary>What one <see cref="LevenbergMarquardt.Step"/> did.</summary>
/// <param name="Stop">Why no further progress is possible (step tolerance, damping overflow, no decrease); null: go on.</param>
public sealed record LmStep(bool Moved, double Value, double Damping, double GainRatio, int Rejections, string? Stop);

/// <summary>
/// Levenberg–Marquardt on a least-squares objective F(x) = ½‖r̃(x)‖² (OPTIMIZERS.md §5.1), float64: with A = JᵀJ and
/// g = Jᵀr̃, each trial step solves (A + μI)h = −g — in parameter space (P × P Cholesky) when P ≤ N, or through the
/// N × N dual (JJᵀ + μI)α = r̃, h = −Jᵀα, when N &lt; P — and is accepted when the gain ratio
/// ϱ = (F(x) − F(x + h)) / (½hᵀ(μh − g)) is positive. Nielsen's rule moves μ: accepted → μ·max(⅓, 1 − (2ϱ − 1)³), ν = 2;
/// rejected → μ·ν, ν ← 2ν. μ₀ = τ·max diag(A). A trial point costs one residual evaluation; an accepted one adds a Jacobian.
/// <see cref="Value"/> is reported as the trainer's loss, ‖r̃‖² = 2F.
/// <para>
/// With <see cref="LmOptions.Geodesic"/> (§5.3) the step is δ = v + ½a: v the damped step above, r_vv the second directional
/// derivative of r̃ along v by one extra residual evaluation (forward difference with <see cref="LmOptions.GeodesicStep"/>), and
/// a = −(A + μI)⁻¹Jᵀr_vv from the same Cholesky factor. A trial with ‖a‖/‖v‖ &gt; α is rejected before it is evaluated
/// (as jaxopt does: μ grows as for any rejection); ϱ divides the actual decrease by v's predicted one, ½vᵀ(μv − g), the model
/// decrease the acceleration corrects the path towards. Off, every operation is the plain method's.
/// </para>
/// </summary>
public sealed class LevenbergMarquardt : IGaussNewtonOptimizer
{
    readonly IResidualObjective _objective;
    Tensor _x, _r, _j;
    double _mu, _nu = 2;

    public LevenbergMarquardt(IResidualObjective objective, Tensor x0, LmOptions? options = null)
    {
        Options = options ?? new LmOptions();
        Options.Validate();
        _objective = objective;
        _x = x0.detach().to(ScalarType.Float64).clone().DetachFromDisposeScope();
        (_r, _j) = Linearise(_x);
        using var scope = NewDisposeScope();
        // dim: named — a bare 0 binds to sum(ScalarType) (uint8!) before sum(long)
        _mu = Options.InitialDamping * Math.Max(_j.square().sum(dim: 0).max().ToDouble(), double.Epsilon);
        InitialValue = Value;
    }

    LevenbergMarquardt(IResidualObjective objective, Tensor x, double mu, double nu, LmOptions options)
    {
        Options = options;
        _objective = objective;
        _x = x;
        _mu = mu;
        _nu = nu;
        (_r, _j) = Linearise(_x);
        InitialValue = Value;
    }

    public LmOptions Options { get; }
    public Tensor X => _x;
    /// <summary>‖r̃‖² at <see cref="X"/> (the trainer's loss).</summary>
    public double Value { get; private set; }
    public double InitialValue { get; private set; }
    public double Damping => _mu;
    /// <summary>The Jacobian at <see cref="X"/> (N × P).</summary>
    public Tensor Jacobian => _j;
    public Tensor Residuals => _r;
    public int Iterations { get; private set; }
    /// <summary>Residual evaluations (trial points and linearisations).</summary>
    public int Evaluations { get; private set; }
    /// <summary>Jacobians formed.</summary>
    public int Jacobians { get; private set; }
    public int Rejections { get; private set; }
    /// <summary>Which solve the last step used.</summary>
    public LmSolve LastSolve { get; private set; }

    (Tensor R, Tensor J) Linearise(Tensor x)
    {
        Forget();
        var (r, j, value) = GaussNewtonState.Linearise(_objective, x);
        Evaluations++;
        Jacobians++;
        Value = value;
        return (r, j);
    }

    /// <summary>The damped step h for the current J, r̃ and μ, or null when the system is not positive definite.</summary>
    public Tensor? Direction(double mu) => Factor(mu) is { } l ? Damped(l, _r, Gradient) : null;

    /// <summary>The Cholesky factor of JᵀJ + μI (primal) or JJᵀ + μI (dual), or null when it is not positive definite.</summary>
    Tensor? Factor(double mu)
    {
        long n = _j.shape[0], p = _j.shape[1];
        var solve = Options.Solve == LmSolve.Auto ? (p <= n ? LmSolve.Primal : LmSolve.Dual) : Options.Solve;
        LastSolve = solve;
        // JᵀJ (primal) or JJᵀ (dual) once per linearisation: a rejected trial only changes μ.
        if (_gram is null || _gramSolve != solve)
        {
            _gram?.Dispose();
            _gram = (solve == LmSolve.Primal ? Gram.Of(_j) : Gram.Of(_j.t())).DetachFromDisposeScope();
            _gramSolve = solve;
        }
        var m = _gram.clone();
        m.diagonal().add_(mu);
        var (l, info) = linalg.cholesky_ex(m);
        return info.ToInt64() != 0 ? null : l;
    }

    /// <summary>−(JᵀJ + μI)⁻¹Jᵀb from the factor <paramref name="l"/>: primal from Jᵀb, dual as −Jᵀ(JJᵀ + μI)⁻¹b.</summary>
    Tensor Damped(Tensor l, Tensor b, Tensor jtb)
    {
        if (LastSolve == LmSolve.Primal) return cholesky_solve(jtb.unsqueeze(1), l).squeeze(1).neg();
        var alpha = cholesky_solve(b.unsqueeze(1), l).squeeze(1);
        return _j.t().matmul(alpha).neg();
    }

    Tensor? _gram, _g;
    LmSolve? _gramSolve;

    /// <summary>g = Jᵀr̃ at <see cref="X"/> (half the gradient of ‖r̃‖²), kept for the linearisation.</summary>
    public Tensor Gradient => _g ??= _j.t().matmul(_r).DetachFromDisposeScope();

    /// <summary>Drops what was derived from the last J and r̃.</summary>
    void Forget()
    {
        _gram?.Dispose();
        _g?.Dispose();
        (_gram, _g, _gramSolve) = (null, null, null);
    }

    public LmStep Step()
    {
        double f = 0.5 * Value;
        double mu0 = _mu, nu0 = _nu; // restored when every trial fails: the caller may go on from a new batch
        int rejected = 0;
        double rho = double.NaN;
        while (rejected < Options.MaxRejections)
        {
            using var scope = NewDisposeScope();
            var l = Factor(_mu);
            var h = l is null ? null : Damped(l, _r, Gradient);
            if (h is null || !double.IsFinite(h.norm().ToDouble()))
            {
                Reject(ref rejected);
                continue;
            }
            if (Options.StepTolerance > 0)
            {
                double hn = h.norm().ToDouble(), xn = _x.norm().ToDouble();
                if (hn <= Options.StepTolerance * (xn + Options.StepTolerance))
                {
                    _objective.Assign(_x); // a rejected trial may have left the parameters elsewhere
                    if (rejected == 0) return new LmStep(false, Value, _mu, rho, 0, "step tolerance"); // converged
                    // The step shrank because trials kept failing and μ grew: that is no decrease, not convergence.
                    double grown = _mu;
                    (_mu, _nu) = (mu0, nu0);
                    return new LmStep(false, Value, _mu, rho, rejected,
                                      $"no decrease in {rejected} trial steps (damping rose to {grown:0.0e+00}, the step fell below step_tolerance)");
                }
            }
            var g = Gradient;
            double predicted = 0.5 * h.dot(h * _mu - g).ToDouble();
            var trial = _x + h;
            if (Options.Geodesic)
            {
                var a = Acceleration(l!, h);
                double ratio = (a.norm() / h.norm()).ToDouble();
                if (!(ratio <= Options.AccelerationRatio))
                {
                    AccelerationRejections++;
                    Reject(ref rejected);
                    continue;
                }
                trial = _x + h + 0.5 * a;
            }
            var (rt, _) = _objective.Evaluate(trial, jacobian: false);
            Evaluations++;
            double ft = 0.5 * rt.square().sum().ToDouble();
            rho = (f - ft) / predicted;
            if (double.IsFinite(ft) && predicted > 0 && rho > 0)
            {
                _x.Dispose();
                _x = trial.DetachFromDisposeScope();
                _r.Dispose();
                _j.Dispose();
                (_r, _j) = Linearise(_x);
                _mu *= Math.Max(1.0 / 3, 1 - Math.Pow(2 * rho - 1, 3));
                _nu = 2;
                Iterations++;
                return new LmStep(true, Value, _mu, rho, rejected, null);
            }
            Reject(ref rejected);
        }
        _objective.Assign(_x); // leave the parameters at x, not at the last trial point
        double reached = _mu;
        (_mu, _nu) = (mu0, nu0);
        return new LmStep(false, Value, _mu, rho, rejected,
                          double.IsFinite(reached) ? $"no decrease in {rejected} trial steps (damping rose to {reached:0.0e+00})" : "damping overflowed");
    }

    /// <summary>a = −(A + μI)⁻¹Jᵀr_vv with r_vv ≈ (2/h)·((r̃(x + hv) − r̃(x))/h − Jv): one residual evaluation.</summary>
    Tensor Acceleration(Tensor l, Tensor v)
    {
        double h = Options.GeodesicStep;
        var (rh, _) = _objective.Evaluate(_x + h * v, jacobian: false);
        Evaluations++;
        var rvv = (2 / h) * ((rh - _r) / h - _j.matmul(v));
        return Damped(l, rvv, _j.t().matmul(rvv));
    }

    /// <summary>Trials refused by the geodesic test ‖a‖/‖v‖ &gt; α.</summary>
    public int AccelerationRejections { get; private set; }

    void Reject(ref int rejected)
    {
        _mu *= _nu;
        _nu *= 2;
        rejected++;
        Rejections++;
    }

    /// <summary>The linearisation at <see cref="X"/> again (after the batch changed): r̃ and J on the new points, μ kept.</summary>
    public void Relinearise()
    {
        _r.Dispose();
        _j.Dispose();
        (_r, _j) = Linearise(_x);
    }

    const string Magic = "pinn.lm.v1";

    /// <summary>x, μ, ν and the counters; r̃ and J are recomputed from x on resume (same batch, same values).</summary>
    public void SaveState(BinaryWriter w)
    {
        GaussNewtonState.WriteIterate(w, Magic, _x);
        w.Write(_mu);
        w.Write(_nu);
        GaussNewtonState.WriteCounters(w, Iterations, Evaluations, Jacobians, Rejections, InitialValue);
    }

    public static LevenbergMarquardt Resume(IResidualObjective objective, BinaryReader r, LmOptions options, Device device)
    {
        var x = GaussNewtonState.ReadIterate(r, Magic, objective.Count, "Levenberg–Marquardt");
        double mu = r.ReadDouble(), nu = r.ReadDouble();
        var c = GaussNewtonState.ReadCounters(r);
        return new LevenbergMarquardt(objective, tensor(x, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope(), mu, nu, options)
        {
            Iterations = c.Iterations, Evaluations = c.Evaluations, Jacobians = c.Jacobians, Rejections = c.Rejections, InitialValue = c.InitialValue,
        };
    }

    public void Dispose()
    {
        Forget();
        _x.Dispose();
        _r.Dispose();
        _j.Dispose();
    }
}
