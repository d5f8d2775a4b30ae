using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>How <see cref="EnergyNaturalGradient"/> applies the pseudo-inverse of the Gramian (OPTIMIZERS.md §6, §7, §13 E).</summary>
public enum EngdSolve
{
    /// <summary>Thin SVD of J̃ = UΣVᵀ, the Gramian's eigenvalues σ² below <see cref="EngdOptions.Rcond"/>·σ²_max dropped: J̃⁺v = V Σ⁻¹ Uᵀv.</summary>
    Svd,
    /// <summary>Woodbury / dual form J̃ᵀ(J̃J̃ᵀ + λI)⁻¹v by an N × N Cholesky (ENGD-W, Guzmán-Cordero et al. 2025): for N &lt; P.</summary>
    Dual,
}

/// <summary>Settings of <see cref="EnergyNaturalGradient"/>; the defaults are OPTIMIZERS.md §13 E.</summary>
public sealed record EngdOptions
{
    public EngdSolve Solve { get; init; } = EngdSolve.Svd;
    /// <summary>
    /// Pseudo-inverse cut-offs relative to the largest eigenvalue of G = J̃ᵀJ̃: directions with σ² ≤ rcond·σ²_max (σ the
    /// singular values of J̃, so σ ≤ √rcond·σ_max) are dropped. Müller &amp; Zeinhofer's lstsq on G cuts at ε·max(N, P)·λ_max.
    /// With several, each cut-off's direction (one SVD gives them all) is searched over the η grid and the best pair is
    /// taken: a coarse cut makes fast progress early, a fine one is needed once the coarse directions are exhausted.
    /// </summary>
    public IReadOnlyList<double> Rcond { get; init; } = [1e-12];
    /// <summary>λ of the dual form, relative to the largest diagonal entry of J̃J̃ᵀ (the largest squared row norm), as LM's τ is.</summary>
    public double Damping { get; init; } = 1e-10;
    /// <summary>Step sizes tried per iteration: η ∈ {2⁰, 2⁻¹, …, 2^−(GridPoints−1)} (Müller &amp; Zeinhofer: 31).</summary>
    public int GridPoints { get; init; } = 31;
    /// <summary>SPRING momentum μ in sample space (Guzmán-Cordero et al. 2025, OPTIMIZERS.md §7); 0: plain ENGD.</summary>
    public double Momentum { get; init; }

    public void Validate()
    {
        if (Rcond.Count == 0 || Rcond.Any(c => !(c > 0 && c < 1)))
            throw new PinnException($"rcond must be one or more numbers in (0, 1) (got [{string.Join(", ", Rcond)}])");
        if (!(Damping >= 0) || !double.IsFinite(Damping)) throw new PinnException($"damping must be a finite number ≥ 0 (got {Damping})");
        if (GridPoints is < 1 or > 64) throw new PinnException($"grid_points must be in 1 … 64 (got {GridPoints}; η = 2^−k, k < grid_points)");
        if (!(Momentum >= 0 && Momentum < 1)) throw new PinnException($"momentum must be in [0, 1) (got {Momentum})");
    }
}

/// <summary>What one <see cref="EnergyNaturalGradient.Step"/> did.</summary>
/// <param name="StepSize">The η taken (0: no step).</param>
/// <param name="Rank">Singular values kept by the SVD cut-off taken (the dual form: N).</param>
/// <param name="Rcond">The cut-off whose direction was taken (NaN: none; 0: the dual form).</param>
/// <param name="Stop">Why no further progress is possible on this batch (no decrease on the grid, a failed solve); null: go on.</param>
public sealed record EngdStep(bool Moved, double Value, double StepSize, long Rank, double Rcond, string? Stop);

/// <summary>
/// Energy natural gradient descent (Müller &amp; Zeinhofer 2023; OPTIMIZERS.md §6) on a least-squares objective
/// L(x) = ‖r̃(x)‖², float64. Gramian G = J̃ᵀJ̃, natural gradient d = G⁺∇L = 2J̃⁺r̃ (∇L = 2J̃ᵀr̃), step x ← x − η*d with
/// η* the best of the grid {2^−k : k = 0 … K−1} that lowers L, and no step when none does. With SPRING momentum μ
/// (Guzmán-Cordero et al. 2025, §7) the half-direction is φ_k = μφ_{k−1} + J̃⁺(r̃ − μJ̃φ_{k−1}) and d = 2φ_k.
/// <para>
/// <b>Weighting.</b> Müller &amp; Zeinhofer weight each condition by its measure, L = |Ω|·mean_Ω(…)² + |∂Ω|·mean_∂Ω(…)², and
/// their Gramian uses the same weights. Here r̃_{c,i} = √(w_c/n_c)·r_{c,i} carries the trainer's weights w_c instead, so
/// L = Σ_c w_c·mean_c r_c² and G = J̃ᵀJ̃ = Σ_c w_c·mean_c[(∂_θr_c)(∂_θr_c)ᵀ]: for a linear operator this is exactly their
/// Gramian with |Ω|, |∂Ω| replaced by w_c (the two agree when w_c is the condition's measure).
/// </para>
/// <para>
/// <b>Against Gauss–Newton.</b> For linear operators and this least-squares loss the direction d is exactly twice the
/// undamped Gauss–Newton step −J̃⁺r̃ (η = ½ on the grid recovers it; OPTIMIZERS.md §14 trap 11), so the grid search
/// makes ENGD a damped Gauss–Newton method along that ray. It differs from Levenberg–Marquardt in the damping — a
/// pseudo-inverse cut-off (or a fixed tiny λ) on the direction, then a step length, instead of μ bending the direction
/// towards the gradient — and it carries no trust or damping memory from one iteration to the next, so a redraw of the
/// points costs nothing. For nonlinear PDE operators, ENGD with the linearised operator in the Gramian is Gauss–Newton
/// again: J̃ is that linearisation.
/// </para>
/// One iteration costs a Jacobian, one SVD of J̃ (N × P) or Cholesky of J̃J̃ᵀ (N × N), and K residual evaluations.
/// <see cref="Value"/> is the trainer's loss ‖r̃‖².
/// </summary>
public sealed class EnergyNaturalGradient : IDisposable
{
    readonly IResidualObjective _objective;
    Tensor _x;
    Tensor? _r, _j, _phi; // r̃ and J̃ at x on the current batch (null: to be formed); φ: the last half-direction (momentum)

    public EnergyNaturalGradient(IResidualObjective objective, Tensor x0, EngdOptions? options = null)
        : this(objective, x0.detach().to(ScalarType.Float64).clone().DetachFromDisposeScope(), null, options ?? new EngdOptions(), linearise: true)
    {
        InitialValue = Value;
    }

    EnergyNaturalGradient(IResidualObjective objective, Tensor x, Tensor? phi, EngdOptions options, bool linearise)
    {
        options.Validate();
        Options = options;
        _objective = objective;
        _x = x;
        _phi = phi;
        if (linearise) Linearise();
    }

    public EngdOptions Options { get; }
    public Tensor X => _x;
    /// <summary>‖r̃‖² at <see cref="X"/> on the current batch (the trainer's loss).</summary>
    public double Value { get; private set; }
    public double InitialValue { get; private set; }
    public int Iterations { get; private set; }
    /// <summary>Residual evaluations (grid points and linearisations).</summary>
    public int Evaluations { get; private set; }
    public int Jacobians { get; private set; }
    /// <summary>The momentum's half-direction φ (null without momentum or before the first step).</summary>
    public Tensor? Momentum => _phi;

    void Linearise()
    {
        _r?.Dispose();
        _j?.Dispose();
        using var scope = NewDisposeScope();
        var (r, j) = _objective.Evaluate(_x, jacobian: true);
        Evaluations++;
        Jacobians++;
        Value = r.square().sum().ToDouble();
        _r = r.DetachFromDisposeScope();
        _j = j!.DetachFromDisposeScope();
    }

    /// <summary>The points changed: r̃ and J̃ are formed again on the new batch before the next step (x and φ kept).</summary>
    public void Relinearise()
    {
        _r?.Dispose();
        _j?.Dispose();
        (_r, _j) = (null, null);
    }

    /// <summary>J̃ at <see cref="X"/> and r̃ (formed now if the batch changed).</summary>
    public (Tensor Residuals, Tensor Jacobian) Linearisation()
    {
        if (_j is null) Linearise();
        return (_r!, _j!);
    }

    /// <summary>∇L = 2J̃ᵀr̃ at <see cref="X"/> (in the caller's dispose scope).</summary>
    public Tensor Gradient()
    {
        var (r, j) = Linearisation();
        return 2 * j.t().matmul(r);
    }

    /// <summary>
    /// J̃⁺v by the configured solve — one per cut-off of <see cref="EngdOptions.Rcond"/> from one SVD, or the damped dual
    /// form — with the rank each used; empty when the dual system is not positive definite. In the caller's dispose scope.
    /// </summary>
    public IReadOnlyList<(Tensor Solution, long Rank, double Rcond)> PseudoInverses(Tensor v)
    {
        var (_, j) = Linearisation();
        var solutions = new List<(Tensor, long, double)>();
        if (Options.Solve == EngdSolve.Svd)
        {
            var (u, s, vh) = linalg.svd(j, fullMatrices: false);
            var coefficients = u.t().matmul(v) / s; // J̃⁺v = Σ_i v_i (u_iᵀv)/σ_i over the kept i
            double smax = s.max().ToDouble();
            foreach (var rcond in Options.Rcond)
            {
                var keep = s.gt(Math.Sqrt(rcond) * smax); // σ² > rcond·σ²_max
                long rank = keep.sum().ToInt64();
                solutions.Add((vh.t().matmul(where(keep, coefficients, zeros_like(coefficients))), rank, rcond)); // dropped: 0, not 1/σ
            }
            return solutions;
        }
        var k = j.matmul(j.t());
        double lambda = Options.Damping * k.diagonal().max().ToDouble();
        k.diagonal().add_(lambda);
        var (l, info) = linalg.cholesky_ex(k);
        if (info.ToInt64() == 0) solutions.Add((j.t().matmul(cholesky_solve(v.unsqueeze(1), l).squeeze(1)), j.shape[0], 0));
        return solutions;
    }

    /// <summary>The natural-gradient directions d = G⁺∇L = 2J̃⁺r̃ (with momentum: 2φ_k), one per cut-off (<see cref="PseudoInverses"/>).</summary>
    public IReadOnlyList<(Tensor Direction, long Rank, double Rcond)> Directions()
    {
        var (r, j) = Linearisation();
        bool momentum = Options.Momentum > 0 && _phi is not null;
        var v = momentum ? r - Options.Momentum * j.matmul(_phi!) : r;
        return PseudoInverses(v).Select(x => (2 * (momentum ? x.Solution + Options.Momentum * _phi! : x.Solution), x.Rank, x.Rcond)).ToList();
    }

    /// <summary>The direction for the first cut-off (or the dual form's), or null when the solve failed.</summary>
    public (Tensor? Direction, long Rank) Direction() => Directions() is { Count: > 0 } ds ? (ds[0].Direction, ds[0].Rank) : (null, 0);

    /// <summary>One iteration: direction, grid line search over η, and the step when some η lowers the loss.</summary>
    public EngdStep Step()
    {
        using var scope = NewDisposeScope();
        var directions = Directions().Where(x => double.IsFinite(x.Direction.norm().ToDouble())).ToList();
        if (directions.Count == 0)
        {
            ForgetMomentum();
            return new EngdStep(false, Value, 0, 0, double.NaN, Options.Solve == EngdSolve.Dual
                ? "the dual system J̃J̃ᵀ + λI is not positive definite, or its direction not finite (raise damping, or use solve: svd)"
                : "the natural-gradient direction is not finite");
        }
        double best = Value, bestEta = 0;
        int bestIndex = -1;
        for (int i = 0; i < directions.Count; i++)
            for (int k = 0; k < Options.GridPoints; k++)
            {
                using var trialScope = NewDisposeScope();
                double eta = Math.ScaleB(1.0, -k);
                var (rt, _) = _objective.Evaluate(_x - eta * directions[i].Direction, jacobian: false);
                Evaluations++;
                double f = rt.square().sum().ToDouble();
                if (double.IsFinite(f) && f < best) (best, bestEta, bestIndex) = (f, eta, i); // strict: a tie is no decrease
            }
        if (bestIndex < 0)
        {
            _objective.Assign(_x); // the parameters hold the last grid point
            ForgetMomentum();
            return new EngdStep(false, Value, 0, directions[^1].Rank, double.NaN,
                                $"no decrease along the natural gradient for η ∈ {{1, …, 2^−{Options.GridPoints - 1}}}");
        }
        var (d, rank, rcond) = directions[bestIndex];
        var next = (_x - bestEta * d).DetachFromDisposeScope();
        _x.Dispose();
        _x = next;
        _objective.Assign(_x);
        if (Options.Momentum > 0)
        {
            _phi?.Dispose();
            _phi = (d / 2).DetachFromDisposeScope();
        }
        Relinearise(); // formed lazily: a redraw before the next step would make it wasted work
        Value = best;
        Iterations++;
        return new EngdStep(true, Value, bestEta, rank, rcond, null);
    }

    void ForgetMomentum()
    {
        _phi?.Dispose();
        _phi = null; // a failed iteration's φ would steer the next one (on a new batch) the same way
    }

    const string Magic = "pinn.engd.v1";

    /// <summary>x, φ and the counters; r̃ and J̃ are recomputed from x on resume (same batch, same values).</summary>
    public void SaveState(BinaryWriter w)
    {
        w.Write(Magic);
        WriteVector(w, _x);
        w.Write(_phi is not null);
        if (_phi is not null) WriteVector(w, _phi);
        w.Write(Iterations);
        w.Write(Evaluations);
        w.Write(Jacobians);
        w.Write(InitialValue);
        w.Write(Value);
        w.Write(_j is not null); // formed already (after Begin or a failed step) or due (after a step): so the counters match on resume
    }

    static void WriteVector(BinaryWriter w, Tensor t)
    {
        var v = t.cpu().contiguous().data<double>().ToArray();
        w.Write(v.Length);
        foreach (var e in v) w.Write(e);
    }

    static Tensor ReadVector(BinaryReader r, long count, Device device)
    {
        int n = r.ReadInt32();
        if (n != count) throw new PinnException($"the checkpoint's natural-gradient state has {n} parameters, the model {count}");
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.ReadDouble();
        return tensor(v, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope();
    }

    public static EnergyNaturalGradient Resume(IResidualObjective objective, BinaryReader r, EngdOptions options, Device device)
    {
        if (r.ReadString() != Magic) throw new PinnException("the checkpoint's phase state is not a natural-gradient (engd) state");
        var x = ReadVector(r, objective.Count, device);
        var phi = r.ReadBoolean() ? ReadVector(r, objective.Count, device) : null;
        int iterations = r.ReadInt32(), evaluations = r.ReadInt32(), jacobians = r.ReadInt32();
        double initial = r.ReadDouble(), value = r.ReadDouble();
        var e = new EnergyNaturalGradient(objective, x, phi, options, linearise: r.ReadBoolean());
        objective.Assign(x);
        e.Iterations = iterations;
        e.Evaluations = evaluations;
        e.Jacobians = jacobians;
        e.InitialValue = initial;
        e.Value = value; // the line search's value at x, as the uninterrupted run holds it
        return e;
    }

    public void Dispose()
    {
        _x.Dispose();
        _r?.Dispose();
        _j?.Dispose();
        _phi?.Dispose();
    }
}
