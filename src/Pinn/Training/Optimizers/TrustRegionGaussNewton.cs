using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>Settings of <see cref="TrustRegionGaussNewton"/>; the defaults are OPTIMIZERS.md §8.3 / §13 D (float64).</summary>
public sealed record TrOptions
{
    /// <summary>Δ₀, the first trust radius (in parameter units).</summary>
    public double InitialRadius { get; init; } = 1;
    public double MinRadius { get; init; } = 1e-8;
    public double MaxRadius { get; init; } = 1e3;
    /// <summary>Probe radii per step, geometric over [Δ/window, Δ·window]; each costs one loss evaluation (DSGNAR: 24).</summary>
    public int Probes { get; init; } = 24;
    public double Window { get; init; } = 3;
    /// <summary>ϱ_target: the radius is where the probes' monotone ratio envelope falls through it.</summary>
    public double TargetRatio { get; init; } = 0.075;
    /// <summary>ϱ_target once log λ has passed its minimum (DSGNAR: 0.5; equal to <see cref="TargetRatio"/>: never switch).</summary>
    public double LateTargetRatio { get; init; } = 0.5;
    /// <summary>Accepted steps before the switch may happen.</summary>
    public int SwitchAfter { get; init; } = 80;
    /// <summary>The switch fits log₁₀λ of the last this-many accepted steps (with λ &gt; 0) …</summary>
    public int SwitchWindow { get; init; } = 30;
    /// <summary>… and fires when the slope exceeds this and the correlation <see cref="SwitchCorrelation"/>.</summary>
    public double SwitchSlope { get; init; } = 1e-4;
    public double SwitchCorrelation { get; init; } = 0.1;
    /// <summary>s_r, rows of the CountSketch S applied to r̃ and J̃ (0: none, the exact SVD of J̃; also none when s_r ≥ N).</summary>
    public int SketchRows { get; init; }
    public int SketchHashes { get; init; } = 4;

    public void Validate()
    {
        if (!(MinRadius > 0) || !(MaxRadius >= MinRadius) || !double.IsFinite(MaxRadius))
            throw new PinnException($"min_radius and max_radius must satisfy 0 < min_radius ≤ max_radius < ∞ (got {MinRadius}, {MaxRadius})");
        if (!(InitialRadius > 0) || !double.IsFinite(InitialRadius)) throw new PinnException($"radius must be a positive number (got {InitialRadius})");
        if (Probes < 1) throw new PinnException($"probes must be at least 1 (got {Probes})");
        if (!(Window >= 1) || !double.IsFinite(Window)) throw new PinnException($"window must be ≥ 1 (got {Window})");
        if (!(TargetRatio > 0 && TargetRatio < 1)) throw new PinnException($"target_ratio must lie in (0, 1) (got {TargetRatio})");
        if (!(LateTargetRatio > 0 && LateTargetRatio < 1)) throw new PinnException($"late_target_ratio must lie in (0, 1) (got {LateTargetRatio})");
        if (SwitchAfter < 0) throw new PinnException($"switch_after must be ≥ 0 (got {SwitchAfter})");
        if (SwitchWindow < 3) throw new PinnException($"the switch window must be at least 3 steps (got {SwitchWindow})");
        if (SketchRows < 0) throw new PinnException($"sketch must be ≥ 0 rows (0: no sketch; got {SketchRows})");
        if (SketchHashes < 1) throw new PinnException($"hashes must be at least 1 (got {SketchHashes})");
    }
}

/// <summary>What one <see cref="TrustRegionGaussNewton.Step"/> did.</summary>
/// <param name="Ratio">ϱ = actual / predicted decrease of the step at the chosen radius.</param>
/// <param name="Stop">Why no further progress is possible (vanished gradient, no decrease at min_radius); null: go on.</param>
public sealed record TrStep(bool Moved, double Value, double Radius, double Lambda, double Ratio, string? Stop);

/// <summary>
/// Trust-region Gauss–Newton with DSGNAR's adaptive-ratio radius (Webb, Jerad, Cartis 2026; OPTIMIZERS.md §8) on a
/// least-squares objective L(x) = ‖r̃(x)‖², float64, in exact parameter space (no right sketch: our P is 1–5k, where the
/// SVD of J̃ or of the row sketch S·J̃ is cheap). Each step:
/// <list type="number">
/// <item>the thin SVD of B = J̃ (or S·J̃, S a fresh CountSketch) gives y(λ) and pred(λ) for every λ (<see cref="SvdStepModel"/>);</item>
/// <item>probe radii, geometric over [Δ/w, Δ·w] clipped to [Δ_min, Δ_max]; for each, λ from the secular equation, the true loss at
/// x + y(λ) and ϱ_j = (L(x) − L_j)/pred_j; clipped to [−1, 1] and made non-increasing in the radius (cumulative minimum);</item>
/// <item>the radius where that envelope falls through ϱ_target, by linear interpolation of ϱ in log Δ between the two
/// probes that bracket it (the upper end if every probe is ≥ target, the lower if none is). DSGNAR fits a PCHIP on a 512-point
/// grid instead; on a monotone envelope both pick the same bracketing pair and differ only inside it, by less than the probe
/// spacing (w^(2/(n−1)): ×1.1 at 24 probes), far below the noise of the ratios themselves, and the linear rule needs no grid;</item>
/// <item>the step at that radius is accepted iff its ϱ &gt; 0 on the true loss; the next radius is the chosen one, or Δ/w after a rejection.</item>
/// </list>
/// ϱ_target switches from <see cref="TrOptions.TargetRatio"/> to <see cref="TrOptions.LateTargetRatio"/> once log λ turns upward
/// (DSGNAR's rule: after <see cref="TrOptions.SwitchAfter"/> steps, a fit over the last <see cref="TrOptions.SwitchWindow"/>).
/// Cost per step: one Jacobian, one SVD, and up to probes + 1 loss evaluations (probes that share λ = 0, and a final radius
/// that equals a probe's, reuse its evaluation).
/// </summary>
public sealed class TrustRegionGaussNewton : IGaussNewtonOptimizer
{
    readonly IResidualObjective _objective;
    Tensor _x, _r, _j;
    Tensor? _g;
    SvdStepModel? _exact; // the unsketched model of the current linearisation (kept across rejections)
    SplitMix64 _rng;
    double _radius, _lambda, _ratio = double.NaN;
    bool _late;
    readonly List<double> _logLambda = [];

    public TrustRegionGaussNewton(IResidualObjective objective, Tensor x0, TrOptions? options = null, ulong sketchSeed = 0)
    {
        Options = options ?? new TrOptions();
        Options.Validate();
        _objective = objective;
        _rng = new SplitMix64(sketchSeed);
        _radius = Math.Clamp(Options.InitialRadius, Options.MinRadius, Options.MaxRadius);
        _x = x0.detach().to(ScalarType.Float64).clone().DetachFromDisposeScope();
        (_r, _j) = Linearise(_x);
        InitialValue = Value;
    }

    TrustRegionGaussNewton(IResidualObjective objective, Tensor x, TrOptions options)
    {
        Options = options;
        _objective = objective;
        _x = x;
        (_r, _j) = Linearise(_x);
    }

    public TrOptions Options { get; }
    public Tensor X => _x;
    /// <summary>‖r̃‖² at <see cref="X"/> (the trainer's loss).</summary>
    public double Value { get; private set; }
    public double InitialValue { get; private set; }
    /// <summary>The current trust radius Δ.</summary>
    public double Radius => _radius;
    /// <summary>λ of the last step's chosen radius.</summary>
    public double Lambda => _lambda;
    /// <summary>ϱ of the last step.</summary>
    public double Ratio => _ratio;
    /// <summary>The ϱ_target in force (the late one after the switch).</summary>
    public double TargetRatio => _late ? Options.LateTargetRatio : Options.TargetRatio;
    public int Iterations { get; private set; }
    /// <summary>Residual evaluations (probes, final trial points and linearisations).</summary>
    public int Evaluations { get; private set; }
    public int Jacobians { get; private set; }
    public int Rejections { get; private set; }
    public Tensor Residuals => _r;
    public Tensor Jacobian => _j;
    /// <summary>g = J̃ᵀr̃ at <see cref="X"/> (half the gradient of ‖r̃‖²).</summary>
    public Tensor Gradient => _g ??= _j.t().matmul(_r).DetachFromDisposeScope();
    /// <summary>Whether the steps use a row sketch (s_r &lt; N).</summary>
    public bool Sketched => Options.SketchRows > 0 && Options.SketchRows < _r.shape[0];

    (Tensor R, Tensor J) Linearise(Tensor x)
    {
        _g?.Dispose();
        _exact?.Dispose();
        (_g, _exact) = (null, null);
        var (r, j, value) = GaussNewtonState.Linearise(_objective, x);
        Evaluations++;
        Jacobians++;
        Value = value;
        return (r, j);
    }

    /// <summary>The linearisation at <see cref="X"/> again (after the batch changed); radius, λ and the switch are kept.</summary>
    public void Relinearise()
    {
        _r.Dispose();
        _j.Dispose();
        (_r, _j) = Linearise(_x);
    }

    /// <summary>The SVD model of this step: exact (cached per linearisation) or on a fresh sketch (the caller disposes it).</summary>
    SvdStepModel Model(out bool owned)
    {
        owned = Sketched;
        if (!owned) return _exact ??= new SvdStepModel(_j, _r);
        using var sketch = new CountSketch(_r.shape[0], Options.SketchRows, Options.SketchHashes, ref _rng, _r.device);
        using var scope = NewDisposeScope();
        return new SvdStepModel(sketch.Apply(_j), sketch.Apply(_r));
    }

    double LossAt(Tensor step)
    {
        using var scope = NewDisposeScope();
        var (r, _) = _objective.Evaluate(_x + step, jacobian: false);
        Evaluations++;
        double v = r.square().sum().ToDouble();
        return double.IsFinite(v) ? v : double.PositiveInfinity;
    }

    /// <summary>The probe radii for the current Δ: geometric over [max(Δ/w, Δ_min), min(Δ·w, Δ_max)].</summary>
    public double[] ProbeRadii()
    {
        double delta = Math.Clamp(_radius, Options.MinRadius, Options.MaxRadius);
        double lo = Math.Max(delta / Options.Window, Options.MinRadius), hi = Math.Min(delta * Options.Window, Options.MaxRadius);
        int n = Options.Probes;
        if (n == 1) return [delta];
        var radii = new double[n];
        for (int i = 0; i < n; i++) radii[i] = i == 0 ? lo : i == n - 1 ? hi : lo * Math.Pow(hi / lo, (double)i / (n - 1));
        return radii;
    }

    /// <summary>
    /// The radius where the non-increasing envelope <paramref name="envelope"/> (over increasing <paramref name="radii"/>) falls
    /// through <paramref name="target"/>: linear in log Δ between the bracketing probes; the last radius if none falls below,
    /// the first if the first is already below.
    /// </summary>
    public static double Crossing(double[] radii, double[] envelope, double target)
    {
        if (envelope[0] < target) return radii[0];
        for (int i = 1; i < radii.Length; i++)
        {
            if (envelope[i] >= target) continue;
            double a = Math.Log(radii[i - 1]), b = Math.Log(radii[i]);
            double t = (envelope[i - 1] - target) / (envelope[i - 1] - envelope[i]);
            return Math.Exp(a + t * (b - a));
        }
        return radii[^1];
    }

    public TrStep Step()
    {
        using var scope = NewDisposeScope();
        var model = Model(out bool owned);
        try
        {
            if (model.Rank == 0 || !(model.Predicted(0) > 0))
                return new TrStep(false, Value, _radius, _lambda, _ratio, "gradient vanished (the Gauss–Newton model predicts no decrease)");
            var radii = ProbeRadii();
            var lambdas = new double[radii.Length];
            var envelope = new double[radii.Length];
            var tried = new Dictionary<double, double>(); // λ → loss at x + y(λ): probes with λ = 0 are one step
            double Trial(double lambda)
            {
                if (tried.TryGetValue(lambda, out var known)) return known;
                return tried[lambda] = LossAt(model.Step(lambda));
            }
            for (int i = 0; i < radii.Length; i++)
            {
                lambdas[i] = model.LambdaFor(radii[i]);
                double rho = (Value - Trial(lambdas[i])) / model.Predicted(lambdas[i]);
                rho = double.IsNaN(rho) ? -1 : Math.Clamp(rho, -1, 1);
                envelope[i] = i == 0 ? rho : Math.Min(rho, envelope[i - 1]);
            }
            double chosen = Crossing(radii, envelope, TargetRatio);
            double lambda = model.LambdaFor(chosen);
            double predicted = model.Predicted(lambda);
            var step = model.Step(lambda);
            double loss = Trial(lambda);
            double ratio = (Value - loss) / predicted;
            _lambda = lambda;
            _ratio = ratio;
            if (ratio > 0 && double.IsFinite(loss))
            {
                var next = (_x + step).DetachFromDisposeScope();
                _x.Dispose();
                _x = next;
                _r.Dispose();
                _j.Dispose();
                (_r, _j) = Linearise(_x);
                _radius = chosen;
                Iterations++;
                NoteLambda(lambda);
                return new TrStep(true, Value, _radius, lambda, ratio, null);
            }
            _objective.Assign(_x); // leave the parameters at x, not at the last probe
            Rejections++;
            bool floor = radii[0] <= Options.MinRadius;
            _radius = radii[0];
            return new TrStep(false, Value, _radius, lambda, ratio,
                              floor ? $"no decrease at min_radius = {Options.MinRadius:0.0e+00} (ϱ = {ratio:G3})" : null);
        }
        finally { if (owned) model.Dispose(); }
    }

    /// <summary>DSGNAR's switch of ϱ_target: once log₁₀λ of the recent accepted steps trends upward, λ has passed its minimum.</summary>
    void NoteLambda(double lambda)
    {
        if (_late || !(lambda > 0)) return;
        _logLambda.Add(Math.Log10(lambda));
        if (_logLambda.Count > Options.SwitchWindow) _logLambda.RemoveAt(0);
        if (Iterations < Options.SwitchAfter || _logLambda.Count < Options.SwitchWindow) return;
        int n = _logLambda.Count;
        double mx = (n - 1) / 2.0, my = _logLambda.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = i - mx, dy = _logLambda[i] - my;
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
        }
        double slope = sxy / sxx, corr = syy > 0 ? sxy / Math.Sqrt(sxx * syy) : 0;
        if (slope > Options.SwitchSlope && corr > Options.SwitchCorrelation) _late = true;
    }

    const string Magic = "pinn.tr.v1";

    /// <summary>x, Δ, λ, ϱ, the target switch and its λ history, the sketch stream and the counters; r̃ and J̃ are recomputed from x.</summary>
    public void SaveState(BinaryWriter w)
    {
        GaussNewtonState.WriteIterate(w, Magic, _x);
        w.Write(_radius);
        w.Write(_lambda);
        w.Write(_ratio);
        w.Write(_late);
        w.Write(_logLambda.Count);
        foreach (var v in _logLambda) w.Write(v);
        w.Write(_rng.State);
        GaussNewtonState.WriteCounters(w, Iterations, Evaluations, Jacobians, Rejections, InitialValue);
    }

    public static TrustRegionGaussNewton Resume(IResidualObjective objective, BinaryReader r, TrOptions options, Device device)
    {
        var x = GaussNewtonState.ReadIterate(r, Magic, objective.Count, "trust-region Gauss–Newton");
        double radius = r.ReadDouble(), lambda = r.ReadDouble(), ratio = r.ReadDouble();
        bool late = r.ReadBoolean();
        var history = new double[r.ReadInt32()];
        for (int i = 0; i < history.Length; i++) history[i] = r.ReadDouble();
        ulong rng = r.ReadUInt64();
        var c = GaussNewtonState.ReadCounters(r);
        var tr = new TrustRegionGaussNewton(objective, tensor(x, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope(), options)
        {
            _radius = radius, _lambda = lambda, _ratio = ratio, _late = late, _rng = new SplitMix64(rng),
            Iterations = c.Iterations, Evaluations = c.Evaluations, Jacobians = c.Jacobians, Rejections = c.Rejections, InitialValue = c.InitialValue,
        };
        tr._logLambda.AddRange(history);
        return tr;
    }

    public void Dispose()
    {
        _g?.Dispose();
        _exact?.Dispose();
        _x.Dispose();
        _r.Dispose();
        _j.Dispose();
    }
}
