using System.Diagnostics;
using System.Globalization;
using Pinn.Problems;
using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Bench;

/// <summary>
/// What a Levenberg–Marquardt iteration costs (issue 14), through the real path (<see cref="FixedBatchPinnStep"/>: the trainer's
/// loss terms on a fixed batch; <see cref="FixedBatchPinnStep.Residuals"/>: the <see cref="ResidualObjective"/> LmPhase builds
/// from them) on viscous Burgers, float64:
/// (1) the exact N×P Jacobian against one loss + gradient evaluation on the same batch (MLP 2→[20×4 tanh]→1, P = 1341,
/// 9000 + 500 + 500 points), per derivative engine — the generic row-by-row route, where an engine takes it, timed on a small
/// batch and extrapolated;
/// (2) LM iterations (<see cref="LevenbergMarquardt.Step"/>, primal) on that batch split into the new Jacobian, the trial
/// evaluations and the linear algebra, against a FLOP floor priced at the measured rate of a large float64 GEMM;
/// (3) iteration time against P and N.
/// </summary>
public sealed class LmBenchmark : IBenchmarkSuite
{
    const int Interior = 9000, Initial = 500, Boundary = 500;
    static readonly int[] Layers = [20, 20, 20, 20]; // P = 1341
    static readonly int[][] TableLayers = [[20, 20], [20, 20, 20], [20, 20, 20, 20], [35, 35, 35]]; // P = 501, 921, 1341, 2661
    static readonly int[] TableSizes = [1000, 4000, 16000];
    static readonly string[] Engines = ["jet", "autograd"];
    /// <summary>Total points of the small batch on which a generic (row-by-row) Jacobian is timed.</summary>
    const int GenericCheckPoints = 100;
    const int GemmSize = 2000;
    const double AssemblyTarget = 3, FloorTarget = 2;
    const long MaxJacobianBytes = 1L << 30;

    readonly List<string> _findings = [];
    double _gemmGflops, _gemmGflopsBest, _assemblyMs = double.NaN;

    public string Name => "lm";
    public string Description =>
        $"Levenberg–Marquardt cost on viscous Burgers, float64, through the trainer's loss terms as the stacked residual vector LmPhase builds: " +
        $"the exact Jacobian (ResidualObjective.Evaluate, jacobian: true) vs one loss + gradient evaluation, MLP 2→[20×4 tanh]→1 (P = 1341), " +
        $"{Interior}+{Initial}+{Boundary} pts, per engine; LM iterations (primal Cholesky) split into Jacobian, trial evaluations and linear algebra " +
        $"against a FLOP floor at the measured {GemmSize}² f64 GEMM rate; iteration time vs P ∈ {{501, 921, 1341, 2661}} × N ∈ {{{string.Join(", ", TableSizes)}}} " +
        $"(90 % interior, 5 % initial, 5 % boundary points)";
    public IReadOnlyList<string> Findings => _findings;

    public IReadOnlyList<BenchRow> Run(BenchOptions options)
    {
        _findings.Clear();
        var rows = new List<BenchRow>();
        rows.AddRange(Gemm(options));
        foreach (var engine in Engines)
            rows.AddRange(Assembly(engine, options));
        rows.AddRange(Iterations(options));
        rows.AddRange(Table(options));
        _findings.Add(OptimBenchmark.MklPath());
        _gemmA?.Dispose();
        _gemmB?.Dispose();
        return rows;
    }

    // ---- the machine's float64 GEMM rate: the price of a FLOP in the floor ------------------------

    Tensor? _gemmA, _gemmB;
    static double GemmFlops => 2.0 * GemmSize * GemmSize * GemmSize;

    /// <summary>One timed GEMM of the reference size: paired with each LM step, so that each step's floor is priced at the rate of the same moment.</summary>
    double GemmOnce() => BenchTimer.Once(() =>
    {
        using var scope = NewDisposeScope();
        _gemmA!.mm(_gemmB!);
    });

    IEnumerable<BenchRow> Gemm(BenchOptions options)
    {
        PeakMemory.Reset();
        using var generator = new Generator(seed: 3);
        _gemmA = randn(GemmSize, GemmSize, dtype: ScalarType.Float64, generator: generator).DetachFromDisposeScope();
        _gemmB = randn(GemmSize, GemmSize, dtype: ScalarType.Float64, generator: generator).DetachFromDisposeScope();
        var t = Repeat(() => GemmOnce(), warmup: 1, repeats: options.Quick ? 3 : 5);
        double flops = GemmFlops;
        _gemmGflops = flops / (t.MedianMs * 1e6);
        _gemmGflopsBest = flops / (t.MinMs * 1e6);
        yield return Row("gemm", $"({GemmSize}×{GemmSize})·({GemmSize}×{GemmSize}) f64, torch.mm", t,
                         Inv($"{_gemmGflops:F1} GFLOP/s (median; best {_gemmGflopsBest:F1}); each LM step's floor is priced at one such GEMM timed just before it"));
    }

    /// <summary>
    /// The floor of one primal LM iteration's linear algebra, in FLOPs (a multiply-add counts 2): JᵀJ exploiting symmetry
    /// (syrk: N·P(P+1)/2 multiply-adds ≈ N·P²), one Cholesky of the P×P system (P³/3), two triangular solves (2P²).
    /// Not in it: the Jacobian and the trial residuals (evaluations, timed apart), g = Jᵀr̃ (2NP), the μ shift, norms.
    /// </summary>
    public static double FloorFlops(long n, long p) => (double)n * p * p + (double)p * p * p / 3 + 2.0 * p * p;


    const int GramBlocks = Gram.Blocks;
    /// <summary>Other slab counts timed beside <see cref="Gram.Blocks"/> (the choice of the constant).</summary>
    static readonly int[] SlabAlternatives = [2, 8];

    // ---- (1) Jacobian assembly vs one loss + gradient evaluation --------------------------------

    IEnumerable<BenchRow> Assembly(string engine, BenchOptions options)
    {
        using var step = new FixedBatchPinnStep(new Burgers1D(), Layers, ScalarType.Float64, Interior, Initial, Boundary, derivatives: engine);
        var objective = step.Objective();
        var residuals = step.Residuals();
        using var x0 = objective.Flatten().DetachFromDisposeScope();
        long p = residuals.Count, n;
        using (var scope = NewDisposeScope()) n = residuals.Evaluate(x0, jacobian: false).Residuals.shape[0];
        string parameters = $"MLP 2→[20×4 tanh]→1, P = {p}, f64, {Interior}+{Initial}+{Boundary} pts, N = {n} residuals";
        double jacobianMb = 8.0 * n * p / (1 << 20);

        // Which route this engine's Jacobian takes, decided on a small batch (the generic route at full size takes minutes).
        using var small = new FixedBatchPinnStep(new Burgers1D(), Layers, ScalarType.Float64, GenericCheckPoints * 9 / 10,
                                                 GenericCheckPoints / 20, GenericCheckPoints / 20, derivatives: engine);
        var smallResiduals = small.Residuals();
        using var xs = smallResiduals.Flatten().DetachFromDisposeScope();
        using (var scope = NewDisposeScope()) smallResiduals.Evaluate(xs, jacobian: true);
        bool fast = smallResiduals.FastJacobians == 1;

        if (fast)
        {
            // Peak growth of one Jacobian evaluation over the resident set just before it.
            PeakMemory.Reset();
            double before = PeakMemory.Megabytes();
            using (var scope = NewDisposeScope()) residuals.Evaluate(x0, jacobian: true);
            double growth = PeakMemory.Megabytes() - before;
            if (residuals.FastJacobians != 1) throw new InvalidOperationException($"{engine}: the full batch fell back to the generic Jacobian ({residuals.FallbackReason})");

            // Alternated, so both sides see the same load: ratios from one run.
            var timings = RoundRobin([
                () => { using var scope = NewDisposeScope(); objective.Evaluate(x0); },
                () => { using var scope = NewDisposeScope(); residuals.Evaluate(x0, jacobian: true); },
                () => { using var scope = NewDisposeScope(); zeros(n, p, dtype: ScalarType.Float64); }, // what a fresh J would cost (the objective reuses its storage)
            ], options.Warmup, options.Quick ? 7 : 15);
            var (gradient, jacobian, allocation) = (timings[0], timings[1], timings[2]);
            double rss = PeakMemory.Megabytes();
            double ratio = jacobian.MedianMs / gradient.MedianMs, ratioMin = jacobian.MinMs / gradient.MinMs;
            yield return Row($"loss + gradient ({engine})", parameters, gradient, "ParameterObjective.Evaluate: one forward + backward (an Adam step's work)", rss);
            yield return Row($"Jacobian ({engine})", parameters, jacobian,
                             Inv($"per-sample route (OPTIMIZERS.md §9), {residuals.FastJacobians} fast / {residuals.GenericJacobians} generic; ") +
                             Inv($"{ratio:F2}× the gradient (minima {ratioMin:F2}×); J = N×P×8 B = {jacobianMb:F0} MiB, peak RSS growth {growth:F0} MiB"), rss);
            yield return Row("  fresh J allocation", $"zeros({n}, {p}) f64", allocation,
                             Inv($"fresh pages each time (glibc maps blocks this large): {jacobianMb / allocation.MedianMs:F1} MiB/ms, {100 * allocation.MedianMs / jacobian.MedianMs:F0} % of the Jacobian's time; ") +
                             Inv($"ResidualObjective reuses a disposed J's storage ({residuals.JacobianAllocations} allocations over the timed Jacobians), so it pays a memset instead"), rss);
            _assemblyMs = jacobian.MedianMs;
            _findings.Add(Inv($"Jacobian assembly ({engine}, per-sample route, N = {n}, P = {p}): {jacobian.MedianMs:F1} ms vs {gradient.MedianMs:F1} ms per loss + gradient, ") +
                          Inv($"ratio {ratio:F2} (medians; minima {ratioMin:F2}; alternated in one run; target ≤ {AssemblyTarget}: {(ratio <= AssemblyTarget ? "met" : "missed")}). ") +
                          Inv($"J itself is {n}×{p}×8 B = {jacobianMb:F0} MiB; one evaluation raised the process's peak working set by {growth:F0} MiB ") +
                          Inv($"({growth / jacobianMb:F1}× J: the per-layer N×out×in outer products and the graph's activations come on top). ") +
                          Inv($"Beyond the gradient's work, the route spends {jacobian.MedianMs - gradient.MedianMs:F0} ms on the per-sample outer products, writing J and the column-sum guard; ") +
                          Inv($"a fresh J would cost another {allocation.MedianMs:F0} ms (page faults), which the reused storage avoids."));
            yield break;
        }

        // Generic route: one VJP of the retained graph per row, each a backward through the whole batch's graph, so
        // T_J(N) ≈ T_loss graph(N) + N·T_backward(N). Checked on the small batch, then extrapolated from full-batch timings.
        string why = smallResiduals.FallbackReason ?? "?";
        var smallObjective = small.Objective();
        var smallGradient = Repeat(() =>
        {
            using var scope = NewDisposeScope();
            smallObjective.Evaluate(xs);
        }, options.Warmup, options.Quick ? 9 : 25);
        var smallLoss = Repeat(() => small.CurrentLoss(), options.Warmup, options.Quick ? 9 : 25);
        var smallJacobian = Repeat(() =>
        {
            using var scope = NewDisposeScope();
            smallResiduals.Evaluate(xs, jacobian: true);
        }, warmup: 0, repeats: options.Quick ? 3 : 5);
        long smallN;
        using (var scope = NewDisposeScope()) smallN = smallResiduals.Evaluate(xs, jacobian: false).Residuals.shape[0];
        double smallModel = smallLoss.MedianMs + smallN * (smallGradient.MedianMs - smallLoss.MedianMs);

        var (fullGradient, fullLoss) = Alternate(() =>
        {
            using var scope = NewDisposeScope();
            objective.Evaluate(x0);
        }, () => step.CurrentLoss(), options.Warmup, options.Quick ? 7 : 15);
        double rssFull = PeakMemory.Megabytes();
        double extrapolated = fullLoss.MedianMs + n * (fullGradient.MedianMs - fullLoss.MedianMs);
        string smallParameters = $"MLP 2→[20×4 tanh]→1, P = {p}, f64, {GenericCheckPoints * 9 / 10}+{GenericCheckPoints / 20}+{GenericCheckPoints / 20} pts, N = {smallN}";
        yield return Row($"loss + gradient ({engine})", parameters, fullGradient, "ParameterObjective.Evaluate", rssFull);
        yield return Row($"loss graph ({engine})", parameters, fullLoss, "no backward", rssFull);
        yield return Row($"Jacobian, small batch ({engine})", smallParameters, smallJacobian,
                         Inv($"generic route ({why}): {smallN} VJPs; model loss graph + N × backward = {smallModel:F0} ms ({smallJacobian.MedianMs / smallModel:F2}× measured/model)"));
        yield return new BenchRow(Name, $"Jacobian, extrapolated ({engine})", parameters, null, null, 0, rssFull,
                                  Inv($"not run: ≈ {extrapolated / 1000:F0} s = loss graph + {n} × backward at full size; {extrapolated / fullGradient.MedianMs:F0}× the gradient"), n);
        _findings.Add(Inv($"Jacobian assembly ({engine}): the fast route does not apply ({why}), so ResidualObjective takes the generic one (one VJP per residual). ") +
                      Inv($"On {smallN} residuals it took {smallJacobian.MedianMs:F0} ms against {smallModel:F0} ms predicted by loss graph + N × backward (measured/model {smallJacobian.MedianMs / smallModel:F2}); ") +
                      Inv($"the same model at N = {n} from full-batch timings (loss graph {fullLoss.MedianMs:F1} ms, backward {fullGradient.MedianMs - fullLoss.MedianMs:F1} ms) gives ≈ {extrapolated / 1000:F0} s, ") +
                      Inv($"{extrapolated / fullGradient.MedianMs:F0}× one loss + gradient (target ≤ {AssemblyTarget}: missed; extrapolated, not run). LM should use jets (derivatives: auto picks them for LM)."));
    }

    // ---- (2) LM iterations vs the FLOP floor -------------------------------------------------

    /// <summary>Times every residual evaluation, Jacobians and trial points apart, so an LM step splits into evaluations and linear algebra.</summary>
    sealed class TimedResiduals(IResidualObjective inner) : IResidualObjective
    {
        public double JacobianMs, TrialMs;
        public int Trials;
        public long Count => inner.Count;
        public void Assign(Tensor x) => inner.Assign(x);

        public (Tensor Residuals, Tensor? Jacobian) Evaluate(Tensor x, bool jacobian)
        {
            var clock = Stopwatch.StartNew();
            var r = inner.Evaluate(x, jacobian);
            double ms = clock.Elapsed.TotalMilliseconds;
            if (jacobian) JacobianMs += ms;
            else { TrialMs += ms; Trials++; }
            return r;
        }
    }

    /// <summary>One LM step split: total, the new Jacobian, the trial evaluations (how many), and the rest (linear algebra).</summary>
    /// <param name="GemmMs">The reference GEMM timed just before the step: the step's floor is priced at that moment's rate.</param>
    sealed record StepSplit(double TotalMs, double JacobianMs, double TrialMs, int Trials, bool Moved, double GemmMs)
    {
        public double AlgebraMs => TotalMs - JacobianMs - TrialMs;
        /// <summary>The floor (<see cref="FloorFlops"/>, plus a Cholesky + solve per extra trial when <paramref name="perTrial"/>) at the paired GEMM's rate.</summary>
        public double FloorMs(long n, long p, bool perTrial = false) =>
            (FloorFlops(n, p) + (perTrial ? Math.Max(Trials - 1, 0) * ((double)p * p * p / 3 + 2.0 * p * p) : 0)) * GemmMs / GemmFlops;
    }

    StepSplit TimedStep(LevenbergMarquardt lm, TimedResiduals timed)
    {
        double gemm = GemmOnce();
        double j0 = timed.JacobianMs, t0 = timed.TrialMs;
        int n0 = timed.Trials;
        var clock = Stopwatch.StartNew();
        var step = lm.Step();
        return new StepSplit(clock.Elapsed.TotalMilliseconds, timed.JacobianMs - j0, timed.TrialMs - t0, timed.Trials - n0, step.Moved, gemm);
    }

    static LevenbergMarquardt Start(FixedBatchPinnStep step, out TimedResiduals timed)
    {
        var inner = step.Residuals();
        timed = new TimedResiduals(inner);
        using var scope = NewDisposeScope();
        return new LevenbergMarquardt(timed, inner.Flatten(), new LmOptions { Solve = LmSolve.Primal, Geodesic = false }); // the plain iteration against its FLOP floor
    }

    IEnumerable<BenchRow> Iterations(BenchOptions options)
    {
        PeakMemory.Reset();
        using var step = new FixedBatchPinnStep(new Burgers1D(), Layers, ScalarType.Float64, Interior, Initial, Boundary, derivatives: "jet");
        using var lm = Start(step, out var timed);
        long n = lm.Jacobian.shape[0], p = lm.Jacobian.shape[1];
        string parameters = $"primal, MLP 2→[20×4 tanh]→1, P = {p}, f64, {Interior}+{Initial}+{Boundary} pts, N = {n}";
        for (int i = 0; i < (options.Quick ? 1 : 2); i++) lm.Step();
        double f0 = lm.Value;
        var splits = Enumerable.Range(0, options.Quick ? 3 : 6).Select(_ => TimedStep(lm, timed)).ToList();
        double rss = PeakMemory.Megabytes();

        // The iteration's linear algebra, piece by piece, on its own J and μ (the full GEMM for reference, Gram.Of as LevenbergMarquardt.Direction forms it).
        var j = lm.Jacobian;
        var r = lm.Residuals;
        int repeats = options.Quick ? 3 : 5;
        using var a = j.t().matmul(j).DetachFromDisposeScope();
        using var g = j.t().matmul(r).DetachFromDisposeScope();
        double blockedError;
        using (var scope = NewDisposeScope()) blockedError = (Gram.Of(j, GramBlocks) - a).abs().max().ToDouble() / a.abs().max().ToDouble();
        Tensor? factor = null;
        // Round robin with the reference GEMM: each piece's ratio to its floor is taken against the GEMM of the same round.
        var pieces = RoundRobin([
            () => GemmOnce(),
            () => { using var scope = NewDisposeScope(); j.t().matmul(j); },
            () => { using var scope = NewDisposeScope(); Gram.Of(j, GramBlocks); },
            () => { using var scope = NewDisposeScope(); Gram.Of(j, SlabAlternatives[0]); },
            () => { using var scope = NewDisposeScope(); Gram.Of(j, SlabAlternatives[1]); },
            () => { using var scope = NewDisposeScope(); j.t().matmul(r); },
            () =>
            {
                using var scope = NewDisposeScope();
                var m = a.clone();
                m.diagonal().add_(lm.Damping);
                var (l, info) = linalg.cholesky_ex(m);
                if (info.ToInt64() != 0) throw new InvalidOperationException("JᵀJ + μI not positive definite");
                factor?.Dispose();
                factor = l.DetachFromDisposeScope();
            },
            () => { using var scope = NewDisposeScope(); cholesky_solve(g.unsqueeze(1), factor!); },
        ], warmup: 1, repeats: options.Quick ? 2 : 3);
        factor?.Dispose();
        var (gemm, gram, blocked, jtr, cholesky, solve) = (pieces[0], pieces[1], pieces[2], pieces[5], pieces[6], pieces[7]);
        var alternatives = new[] { pieces[3], pieces[4] };
        // Per round: the piece's time over its floor at that round's GEMM rate.
        double Ratio(Timing piece, double flops) => Median(piece.SamplesMs.Zip(gemm.SamplesMs, (t, m) => t / (flops * m / GemmFlops)).ToList());
        double gramRatio = Ratio(gram, (double)n * p * p), blockedRatio = Ratio(blocked, (double)n * p * p), cholRatio = Ratio(cholesky, (double)p * p * p / 3);

        var total = splits.Select(s => s.TotalMs).ToList();
        var algebra = splits.Select(s => s.AlgebraMs).ToList();
        var jac = splits.Select(s => s.JacobianMs).ToList();
        var trials = splits.Select(s => s.TrialMs).ToList();
        double trialsPerStep = splits.Average(s => s.Trials);
        double la = Median(algebra);
        double floorMs = Median(splits.Select(s => s.FloorMs(n, p)).ToList());
        double ratio = Median(splits.Select(s => s.AlgebraMs / s.FloorMs(n, p)).ToList());
        double ratioTrials = Median(splits.Select(s => s.AlgebraMs / s.FloorMs(n, p, perTrial: true)).ToList());
        double ratioTotal = Median(splits.Select(s => s.TotalMs / s.FloorMs(n, p)).ToList());
        double stepGflops = Median(splits.Select(s => GemmFlops / (s.GemmMs * 1e6)).ToList());
        yield return Row("lm iteration", parameters, Timing(total),
                         Inv($"{splits.Count(s => s.Moved)}/{splits.Count} accepted, {trialsPerStep:F2} trials per step; loss {f0:G3} → {lm.Value:G3}; {ratioTotal:F2}× the floor"), rss);
        yield return Row("  new Jacobian", parameters, Timing(jac), "ResidualObjective.Evaluate(jacobian: true) after acceptance", rss);
        yield return Row("  trial evaluations", parameters, Timing(trials), Inv($"{trialsPerStep:F2} residual evaluations per step"), rss);
        yield return Row("  linear algebra (the rest)", parameters, Timing(algebra),
                         Inv($"JᵀJ, Jᵀr̃, a Cholesky + solve per trial, norms; floor {floorMs:F0} ms → {ratio:F2}× the floor ") +
                         Inv($"({ratioTrials:F2}× with a Cholesky + solve per trial in the floor)"), rss);
        yield return Row("    reference GEMM", $"({GemmSize}×{GemmSize})², in turn with the pieces below", gemm, Inv($"{GemmFlops / (gemm.MedianMs * 1e6):F1} GFLOP/s"), rss);
        yield return Row("    JᵀJ", parameters, gram, Inv($"j.t().matmul(j) (full GEMM, 2NP² flops): {2.0 * n * p * p / (gram.MedianMs * 1e6):F1} GFLOP/s; {gramRatio:F2}× its floor NP²"), rss);
        yield return Row($"    JᵀJ, {GramBlocks} column slabs", parameters, blocked,
                         Inv($"Gram.Of, what LevenbergMarquardt runs: one GEMM J_aᵀ[J_a … J_last] per slab, mirrored ({1 + 1.0 / GramBlocks:F2}·NP² flops); {blockedRatio:F2}× NP²; ") +
                         Inv($"{gram.MedianMs / blocked.MedianMs:F2}× faster than the full GEMM; max rel. difference {blockedError:G2}"), rss);
        for (int k = 0; k < SlabAlternatives.Length; k++)
            yield return Row($"    JᵀJ, {SlabAlternatives[k]} column slabs", parameters, alternatives[k],
                             Inv($"Gram.Of(j, {SlabAlternatives[k]}) for comparison ({1 + 1.0 / SlabAlternatives[k]:F3}·NP² flops): {Ratio(alternatives[k], (double)n * p * p):F2}× NP²"), rss);
        yield return Row("    Jᵀr̃", parameters, jtr, Inv($"{2.0 * n * p / (jtr.MedianMs * 1e6):F1} GFLOP/s"), rss);
        yield return Row("    Cholesky of JᵀJ + μI", parameters, cholesky, Inv($"clone + shift + linalg.cholesky_ex; {cholRatio:F2}× its floor P³/3"), rss);
        yield return Row("    Cholesky solve", parameters, solve, "cholesky_solve, two triangular solves", rss);

        double parts = gram.MedianMs + jtr.MedianMs + trialsPerStep * (cholesky.MedianMs + solve.MedianMs);
        double blockedLa = la * (1 - gram.MedianMs / parts) + la * blocked.MedianMs / parts; // the measured split, with JᵀJ's share swapped
        _findings.Add(Inv($"LM iteration (primal, N = {n}, P = {p}, {splits.Count} steps after {(options.Quick ? 1 : 2)} untimed, {trialsPerStep:F2} trials each): ") +
                      Inv($"{Median(total):F0} ms median = Jacobian {Median(jac):F0} ms + trial evaluations {Median(trials):F0} ms + linear algebra {la:F0} ms ") +
                      Inv($"(the same Jacobian alone, part 1: {_assemblyMs:F0} ms). ") +
                      Inv($"Floor of the linear algebra = N·P² (JᵀJ by syrk, symmetric half, a multiply-add = 2 flops) + P³/3 (Cholesky) + 2P² (two triangular solves) ") +
                      Inv($"= {FloorFlops(n, p) / 1e9:F1} GFLOP ≈ {floorMs:F0} ms, priced per step at the rate of a {GemmSize}² f64 GEMM timed just before it (median {stepGflops:F1} GFLOP/s); ") +
                      Inv($"not in the floor: the Jacobian, the trial residuals, g = Jᵀr̃ (2NP), the μ shift and norms, and the extra Cholesky + solve of each rejected trial. ") +
                      Inv($"Linear algebra / floor = {ratio:F2} (median of per-step ratios; target ≤ {FloorTarget}: {(ratio <= FloorTarget ? "met" : "missed")}; ") +
                      Inv($"{ratioTrials:F2} against a floor with one Cholesky + solve per trial); whole iteration / floor = {ratioTotal:F2}. ") +
                      Inv($"Pieces on the same J, in turn with the GEMM: JᵀJ as one full GEMM {gram.MedianMs:F0} ms ({gramRatio:F2}× N·P²: 2NP², so ≥ 2× by construction; LevenbergMarquardt uses Gram.Of below), ") +
                      Inv($"Cholesky {cholesky.MedianMs:F1} ms ({cholRatio:F2}× P³/3), solve {solve.MedianMs:F2} ms, Jᵀr̃ {jtr.MedianMs:F2} ms; ") +
                      Inv($"their sum per step {parts:F0} ms vs the {la:F0} ms measured inside Step. ") +
                      Inv($"JᵀJ from {GramBlocks} column slabs of its upper triangle (Gram.Of, what LevenbergMarquardt runs) took {blocked.MedianMs:F0} ms ({blockedRatio:F2}× N·P²), ") +
                      Inv($"which would put the linear algebra at ≈ {blockedLa / floorMs:F2}× the floor."));
    }

    // ---- (3) iteration time vs P and N -------------------------------------------------------

    IEnumerable<BenchRow> Table(BenchOptions options)
    {
        var cells = new List<(long P, long N, double J, double La, double Ratio, double RatioTrials)>();
        foreach (var layers in TableLayers)
        {
            string net = $"2→[{string.Join(",", layers)}]→1";
            bool skipRest = false;
            foreach (int size in TableSizes)
            {
                int interior = size * 9 / 10, initial = size / 20, boundary = size / 20;
                long p = Parameters(layers);
                string parameters = $"primal, {net}, P = {p}, {interior}+{initial}+{boundary} pts";
                double mb = 8.0 * size * p / (1 << 20);
                if (8L * size * p > MaxJacobianBytes || skipRest)
                {
                    yield return new BenchRow(Name, $"iteration P = {p}, N = {size}", parameters, null, null, 0, PeakMemory.Megabytes(),
                                              skipRest ? "skipped (--quick: a smaller N took longer than the quick limit)" : Inv($"skipped: J would be {mb:F0} MiB (> 1 GiB)"), size);
                    continue;
                }
                PeakMemory.Reset();
                using var step = new FixedBatchPinnStep(new Burgers1D(), layers, ScalarType.Float64, interior, initial, boundary, derivatives: "jet");
                using var lm = Start(step, out var timed);
                long n = lm.Jacobian.shape[0];
                if (lm.Jacobian.shape[1] != p) throw new InvalidOperationException($"{net}: P = {lm.Jacobian.shape[1]}, expected {p}");
                var first = TimedStep(lm, timed); // untimed warm-up; in quick mode also the only sample
                List<StepSplit> splits = options.Quick ? [first] : Enumerable.Range(0, 2).Select(_ => TimedStep(lm, timed)).ToList();
                if (options.MaxStepMs is { } max && first.TotalMs > max) skipRest = true;
                double rss = PeakMemory.Megabytes();
                double total = Median(splits.Select(s => s.TotalMs).ToList()), jac = Median(splits.Select(s => s.JacobianMs).ToList());
                double la = Median(splits.Select(s => s.AlgebraMs).ToList()), trials = Median(splits.Select(s => s.TrialMs).ToList());
                double floorMs = Median(splits.Select(s => s.FloorMs(n, p)).ToList());
                double ratio = Median(splits.Select(s => s.AlgebraMs / s.FloorMs(n, p)).ToList());
                double ratioTrials = Median(splits.Select(s => s.AlgebraMs / s.FloorMs(n, p, perTrial: true)).ToList());
                cells.Add((p, n, jac, la, ratio, ratioTrials));
                yield return new BenchRow(Name, $"iteration P = {p}, N = {n}", parameters, total, splits.Min(s => s.TotalMs), splits.Count, rss,
                                          Inv($"Jacobian {jac:F0} ms, linear algebra {la:F0} ms ({ratio:F2}× floor {floorMs:F0} ms; {ratioTrials:F2}× with a Cholesky per trial), ") +
                                          Inv($"trials {splits.Average(s => s.Trials):F1} × = {trials:F0} ms; J {mb:F0} MiB"), n);
            }
        }
        if (cells.Count == 0) yield break;
        // Growth exponents where a row or column has more than one cell: J should be ∝ N, the linear algebra ∝ N (at fixed P) and ∝ P² (at fixed N).
        var inN = cells.GroupBy(c => c.P).Where(g => g.Count() > 1)
                       .Select(g => Inv($"P = {g.Key}: J ∝ N^{Slope(g, c => c.N, c => c.J):F2}, algebra ∝ N^{Slope(g, c => c.N, c => c.La):F2}"));
        var inP = cells.GroupBy(c => c.N).Where(g => g.Count() > 1)
                       .Select(g => Inv($"N = {g.Key}: J ∝ P^{Slope(g, c => c.P, c => c.J):F2}, algebra ∝ P^{Slope(g, c => c.P, c => c.La):F2}"));
        var ratios = cells.Select(c => c.Ratio).ToList();
        var adjusted = cells.Select(c => c.RatioTrials).ToList();
        _findings.Add(Inv($"Iteration vs P and N (primal, jets, {(options.Quick ? "one step" : "median of 2 steps after 1 untimed")} per cell): linear algebra / floor ") +
                      Inv($"{ratios.Min():F2}–{ratios.Max():F2} over {cells.Count} cells (median {Median(ratios):F2}; {adjusted.Min():F2}–{adjusted.Max():F2}, median {Median(adjusted):F2}, ") +
                      Inv($"with one Cholesky + solve per trial in the floor: cells with rejected trials refactor P×P, which weighs where N is not ≫ P); Jacobian share of the iteration ") +
                      Inv($"{cells.Min(c => c.J / (c.J + c.La)) * 100:F0}–{cells.Max(c => c.J / (c.J + c.La)) * 100:F0} % (of Jacobian + algebra). Growth: ") +
                      string.Join("; ", inN.Concat(inP)) + ".");
    }

    static double Slope<T>(IEnumerable<T> cells, Func<T, double> x, Func<T, double> y)
    {
        var list = cells.ToList();
        return BenchTimer.LogLogSlope(list.Select(x).ToList(), list.Select(y).ToList());
    }

    /// <summary>P of the plain MLP 2 → layers → 1 (weights and biases).</summary>
    public static long Parameters(IReadOnlyList<int> layers)
    {
        long p = 0;
        int width = 2;
        foreach (var l in layers.Append(1)) { p += (long)width * l + l; width = l; }
        return p;
    }

    // ---- helpers ---------------------------------------------------------------------------------

    static Timing Repeat(Action step, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++) step();
        var samples = Enumerable.Range(0, repeats).Select(_ => BenchTimer.Once(step)).ToArray();
        return new Timing(BenchTimer.Median(samples), samples.Min(), samples, samples[0], false);
    }

    /// <summary>The actions in turn, round after round, so that all see the same load (ratios from one run, not across minutes of a shared machine).</summary>
    static Timing[] RoundRobin(IReadOnlyList<Action> actions, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++) foreach (var a in actions) a();
        var samples = actions.Select(_ => new double[repeats]).ToArray();
        for (int i = 0; i < repeats; i++)
            for (int k = 0; k < actions.Count; k++) samples[k][i] = BenchTimer.Once(actions[k]);
        return samples.Select(s => new Timing(BenchTimer.Median(s), s.Min(), s, s[0], false)).ToArray();
    }

    static (Timing A, Timing B) Alternate(Action a, Action b, int warmup, int repeats)
    {
        var t = RoundRobin([a, b], warmup, repeats);
        return (t[0], t[1]);
    }

    static Timing Timing(IReadOnlyList<double> samples) => new(Median(samples), samples.Min(), samples, samples[0], false);

    static double Median(IReadOnlyList<double> xs) => BenchTimer.Median(xs);

    BenchRow Row(string name, string parameters, Timing t, string notes, double? rss = null) =>
        new(Name, name, parameters, t.MedianMs, t.MinMs, t.SamplesMs.Count, rss ?? PeakMemory.Megabytes(), notes);

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
