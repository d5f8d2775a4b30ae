namespace Pinn.Training.Optimizers;

/// <summary>φ(α) = f(x + α d) and φ′(α) = ∇f(x + α d)ᵀ d at one trial step.</summary>
public readonly record struct LinePoint(double Value, double Slope)
{
    public bool IsFinite => double.IsFinite(Value) && double.IsFinite(Slope);
}

/// <summary>
/// Outcome of a strong-Wolfe search. On success <see cref="Step"/> satisfies (W1) and (W2) with
/// <see cref="C2"/>, and it is always the last step the search evaluated, so a caller that keeps
/// only its latest trial point holds the accepted one. On failure <see cref="Step"/> is 0: a failed
/// search proposes no step (OPTIMIZERS.md §2.6, trap 4).
/// </summary>
public sealed record LineSearchResult(
    bool Succeeded, double Step, LinePoint Accepted, LinePoint Start, double C1, double C2,
    int Evaluations, int Attempts, string? Failure);

/// <summary>
/// Strong-Wolfe line search: bracketing (Nocedal &amp; Wright, Numerical Optimization, Alg. 3.5) and
/// zoom (Alg. 3.6) with safeguarded cubic, then quadratic interpolation, then bisection — as
/// specified in OPTIMIZERS.md §2.3–2.4. Pure scalar logic over φ; the optimiser supplies φ.
/// </summary>
public static class StrongWolfeLineSearch
{
    /// <summary>
    /// The first trial step (§2.2): α₁ = min(cap, factor · 2(f_k − f_{k−1}) / φ′(0)). Without a previous
    /// value (first iteration, or after a resample) f_{k−1} := f_k + ‖g_k‖/2, so with H = I the first trial
    /// moves about 1 in parameter space. A non-positive or non-finite result falls back to the cap.
    /// </summary>
    public static double InitialStep(double value, double? previousValue, double slope, double gradientNorm, StrongWolfeOptions options)
    {
        double previous = previousValue ?? value + 0.5 * gradientNorm;
        double alpha = Math.Min(options.MaxInitialStep, options.InitialStepFactor * 2 * (value - previous) / slope);
        return alpha > 0 && double.IsFinite(alpha) ? alpha : options.MaxInitialStep;
    }

    /// <summary>
    /// Searches along a descent direction (<paramref name="start"/>.Slope &lt; 0) from <paramref name="initialStep"/>,
    /// trying each of <see cref="StrongWolfeOptions.Attempts"/> in turn until one succeeds.
    /// </summary>
    public static LineSearchResult Search(Func<double, LinePoint> phi, LinePoint start, double initialStep, StrongWolfeOptions options)
    {
        if (!start.IsFinite) return Failed(start, options, 0.0, 0, 0, "φ(0) or φ′(0) is not finite");
        if (!(start.Slope < 0)) return Failed(start, options, 0.0, 0, 0, $"not a descent direction (φ′(0) = {start.Slope:G3})");
        if (!(initialStep > 0) || !double.IsFinite(initialStep)) throw new ArgumentOutOfRangeException(nameof(initialStep), initialStep, "the initial step must be positive and finite");

        int evaluations = 0;
        string failure = "";
        for (int k = 0; k < options.Attempts.Count; k++)
        {
            var attempt = options.Attempts[k];
            var search = new Attempt(phi, start, options, attempt);
            var (ok, alpha, point, why) = search.Run(initialStep);
            evaluations += search.Evaluations;
            if (ok) return new LineSearchResult(true, alpha, point, start, options.C1, attempt.C2, evaluations, k + 1, null);
            failure = why;
        }
        return Failed(start, options, options.Attempts[^1].C2, evaluations, options.Attempts.Count, failure);
    }

    static LineSearchResult Failed(LinePoint start, StrongWolfeOptions o, double c2, int evaluations, int attempts, string why) =>
        new(false, 0, default, start, o.C1, c2, evaluations, attempts, why);

    /// <summary>One (c2, max-iterations) search. The accepted point is always the one just evaluated.</summary>
    sealed class Attempt(Func<double, LinePoint> phi, LinePoint start, StrongWolfeOptions o, WolfeAttempt attempt)
    {
        public int Evaluations { get; private set; }

        LinePoint Evaluate(double alpha)
        {
            Evaluations++;
            return phi(alpha);
        }

        // (W1); a non-finite value or slope counts as too high, so the bracket shrinks away from it.
        bool SufficientDecrease(double alpha, LinePoint p) => p.IsFinite && p.Value <= start.Value + o.C1 * alpha * start.Slope;

        bool Curvature(LinePoint p) => Math.Abs(p.Slope) <= attempt.C2 * Math.Abs(start.Slope);

        public (bool, double, LinePoint, string) Run(double alpha)
        {
            var previous = new Trial(0, start);
            for (int i = 1; i <= attempt.MaxIterations; i++)
            {
                var p = Evaluate(alpha);
                var current = new Trial(alpha, p);
                if (!SufficientDecrease(alpha, p) || (i > 1 && p.Value >= previous.Point.Value))
                    return Zoom(previous, current);
                if (Curvature(p)) return (true, alpha, p, "");
                if (p.Slope >= 0) return Zoom(current, previous);
                previous = current;
                alpha *= o.ExpansionFactor;
            }
            return (false, 0, default, $"no strong-Wolfe step within {attempt.MaxIterations} bracketing evaluations (c2 = {attempt.C2})");
        }

        /// <summary>
        /// Invariants (N&amp;W §3.5): the bracket between lo and hi contains strong-Wolfe steps, lo has the lowest
        /// value of the trials satisfying (W1), and φ′(lo)(hi − lo) &lt; 0.
        /// </summary>
        (bool, double, LinePoint, string) Zoom(Trial lo, Trial hi)
        {
            Trial? recent = null; // the previous lo or hi, for the cubic
            for (int j = 0; j < o.MaxZoomIterations; j++)
            {
                double width = Math.Abs(hi.Alpha - lo.Alpha);
                if (width <= o.ZoomIntervalFloor)
                    return (false, 0, default, $"zoom bracket shrank below {o.ZoomIntervalFloor:G2} (c2 = {attempt.C2})");
                double a = Math.Min(lo.Alpha, hi.Alpha), b = Math.Max(lo.Alpha, hi.Alpha);

                double alpha = double.NaN;
                if (recent is { } rec)
                {
                    alpha = CubicMinimiser(lo, hi, rec);
                    if (!Inside(alpha, a + o.CubicSafeguard * width, b - o.CubicSafeguard * width)) alpha = double.NaN;
                }
                if (double.IsNaN(alpha))
                {
                    alpha = QuadraticMinimiser(lo, hi);
                    if (!Inside(alpha, a + o.QuadraticSafeguard * width, b - o.QuadraticSafeguard * width)) alpha = double.NaN;
                }
                if (double.IsNaN(alpha)) alpha = lo.Alpha + 0.5 * (hi.Alpha - lo.Alpha);

                var p = Evaluate(alpha);
                var trial = new Trial(alpha, p);
                if (!SufficientDecrease(alpha, p) || p.Value >= lo.Point.Value)
                {
                    recent = hi;
                    hi = trial;
                }
                else
                {
                    if (Curvature(p)) return (true, alpha, p, "");
                    if (p.Slope * (hi.Alpha - lo.Alpha) >= 0)
                    {
                        recent = hi;
                        hi = lo;
                    }
                    else recent = lo;
                    lo = trial;
                }
            }
            return (false, 0, default, $"zoom found no strong-Wolfe step within {o.MaxZoomIterations} trials (c2 = {attempt.C2})");
        }

        // Strict: a trial at an end of the bracket would not shrink it. False for NaN.
        static bool Inside(double x, double low, double high) => x > low && x < high;
    }

    readonly record struct Trial(double Alpha, LinePoint Point);

    /// <summary>
    /// Minimiser of the cubic through (lo, φ_lo, φ′_lo), (hi, φ_hi), (rec, φ_rec) (OPTIMIZERS.md §2.4);
    /// NaN or ±∞ when it has none (coincident points, no real critical point).
    /// </summary>
    static double CubicMinimiser(Trial lo, Trial hi, Trial rec)
    {
        double c = lo.Point.Slope;
        double db = hi.Alpha - lo.Alpha, dc = rec.Alpha - lo.Alpha;
        double denominator = (db * dc) * (db * dc) * (db - dc);
        double rb = hi.Point.Value - lo.Point.Value - c * db;
        double rc = rec.Point.Value - lo.Point.Value - c * dc;
        double a3 = (dc * dc * rb - db * db * rc) / denominator;
        double b2 = (-dc * dc * dc * rb + db * db * db * rc) / denominator;
        return lo.Alpha + (-b2 + Math.Sqrt(b2 * b2 - 3 * a3 * c)) / (3 * a3);
    }

    /// <summary>Minimiser of the quadratic through (lo, φ_lo, φ′_lo) and (hi, φ_hi).</summary>
    static double QuadraticMinimiser(Trial lo, Trial hi)
    {
        double c = lo.Point.Slope, db = hi.Alpha - lo.Alpha;
        double b2 = (hi.Point.Value - lo.Point.Value - c * db) / (db * db);
        return lo.Alpha - c / (2 * b2);
    }
}
