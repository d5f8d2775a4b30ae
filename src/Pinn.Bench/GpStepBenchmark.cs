using System.Globalization;
using Pinn.Gp;
using Pinn.Problems;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Bench;

/// <summary>
/// Time per Adam step of the Kronecker GP solver (factorise the per-axis kernels, prior, residual and
/// boundary likelihoods through the solver's own loss terms, backward, Adam) on poisson2d_sin100 over
/// growing grids, against the dense-covariance baseline (<see cref="DenseGpObjective"/>) on the small
/// grids where an N × N Cholesky fits. The claim under test: the Kronecker step costs
/// O(Σ n_j³ + N Σ n_j) — growth exponent ≈ 1–1.5 in N for 2-D — while the dense one costs O(N³).
/// </summary>
public sealed class GpStepBenchmark : IBenchmarkSuite
{
    const string ProblemName = "poisson2d_sin100";
    const int Components = 30;
    const double MaxFrequency = 20;
    /// <summary>Grids from which the Kronecker growth exponent is fitted (the small ones are dominated by fixed per-call overhead).</summary>
    const int FitFrom = 100;
    static readonly int[] KroneckerSizes = [20, 30, 40, 50, 60, 100, 200, 400, 800, 1000];
    /// <summary>N = n² ≤ 3600: the dense N × N factor and its derivative operators stay under ~1 GB.</summary>
    static readonly int[] DenseSizes = [20, 30, 40, 50, 60];
    const int CheckSize = 20;

    readonly List<string> _findings = [];

    public string Name => "gp";
    public string Description =>
        $"GP solver: one Adam step (forward, backward, update) on {ProblemName}, float64, gm kernel, Q = {Components}, F = {MaxFrequency} " +
        "(lowered to the grid's Nyquist frequency below 253² — it changes values, not cost); Kronecker path vs dense N × N covariance";
    public IReadOnlyList<string> Findings => _findings;

    public IReadOnlyList<BenchRow> Run(BenchOptions options)
    {
        _findings.Clear();
        var problem = HighFrequencyBenchmark.All[ProblemName]();
        _findings.Add(AgreementCheck(problem));

        var rows = new List<BenchRow>();
        bool kroneckerTooSlow = false, denseTooSlow = false;
        foreach (int n in KroneckerSizes.Union(DenseSizes).Order())
        {
            if (KroneckerSizes.Contains(n) && !kroneckerTooSlow)
                rows.Add(Time("kronecker", n, problem, options, dense: false, ref kroneckerTooSlow));
            if (DenseSizes.Contains(n) && !denseTooSlow)
                rows.Add(Time("dense", n, problem, options, dense: true, ref denseTooSlow));
        }
        Summarise(rows);
        return rows;
    }

    BenchRow Time(string method, int n, Problem problem, BenchOptions options, bool dense, ref bool tooSlow)
    {
        long nodes = (long)n * n;
        string parameters = $"{n}×{n} (N = {nodes})";
        PeakMemory.Reset();
        using var gp = NewField(problem, n);
        var terms = gp.CreateTerms(problem, TrainingOptions.GpDefaults);
        DrawValuesFromPrior(gp, seed: 1);
        using var adam = optim.Adam(gp.TrainableParameters, lr: 1e-2);
        var timing = BenchTimer.Measure(() => Step(gp, terms, problem, adam, dense), options);
        double rss = PeakMemory.Megabytes();
        if (timing.Skipped)
        {
            tooSlow = true;
            return new BenchRow(Name, method, parameters, null, null, 0, rss,
                                $"skipped: first step {timing.FirstMs / 1000:F1} s > quick limit; larger sizes skipped too", nodes);
        }
        return new BenchRow(Name, method, parameters, timing.MedianMs, timing.MinMs, timing.SamplesMs.Count, rss, "", nodes);
    }

    /// <summary>One optimisation step exactly as <see cref="Trainer"/> runs it: own dispose scope, fresh StepContext.</summary>
    static void Step(GridGpField gp, IReadOnlyList<LossTerm> terms, Problem problem, TorchSharp.Modules.OptimizerHelper adam, bool dense)
    {
        using var scope = NewDisposeScope();
        adam.zero_grad();
        var total = Loss(gp, terms, problem, dense);
        total.backward();
        adam.step();
    }

    static Tensor Loss(GridGpField gp, IReadOnlyList<LossTerm> terms, Problem problem, bool dense)
    {
        var ctx = Context(gp, problem);
        if (dense) return DenseGpObjective.Loss(gp, terms, ctx);
        return terms.Select(t => t.Weight * t.Loss(ctx)).Aggregate(gp.PriorLoss(ctx)!, (a, b) => a + b);
    }

    /// <summary>
    /// Dense and Kronecker objectives at the same state must agree to rounding, term by term, and so must
    /// the derivative fields (the manufactured source dominates the PDE term's value, so agreement of the
    /// loss alone would hide an error in u_xx). The grid values are a draw from the prior, not the
    /// solver's zeros, so the prior's quadratic form and the derivative operators are exercised too.
    /// </summary>
    string AgreementCheck(Problem problem)
    {
        using var gp = NewField(problem, CheckSize);
        var terms = gp.CreateTerms(problem, TrainingOptions.GpDefaults);
        DrawValuesFromPrior(gp, seed: 1);
        var c = Compare(gp, terms, problem);
        return string.Create(CultureInfo.InvariantCulture,
            $"Check at {CheckSize}×{CheckSize}, step 0 (grid values drawn from the prior): Kronecker total loss {c.KroneckerTotal:G12}, " +
            $"dense {c.DenseTotal:G12}; largest relative difference over the prior and the {terms.Count} terms {c.WorstTerm:E1}, " +
            $"over u_xx and u_yy (max norm) {c.WorstField:E1}.");
    }

    /// <summary>Largest relative differences between the Kronecker and dense paths: per loss term, and per second-derivative field.</summary>
    public static (double KroneckerTotal, double DenseTotal, double WorstTerm, double WorstField) Compare(
        GridGpField gp, IReadOnlyList<LossTerm> terms, Problem problem)
    {
        using var scope = NewDisposeScope();
        var ctx = Context(gp, problem);
        // The prior first (weight 1), then the terms: the model's prior is compared like a term.
        var kron = terms.Select(t => t.Loss(ctx).ToDouble()).Prepend(gp.PriorLoss(ctx)!.ToDouble()).ToArray();
        var dense = DenseGpObjective.Terms(gp, terms, ctx).Select(t => t.Loss.ToDouble()).Prepend(DenseGpObjective.Prior(gp, ctx).ToDouble()).ToArray();
        double worstTerm = kron.Zip(dense, (k, d) => Math.Abs(k - d) / Math.Abs(d)).Max();
        var gridFields = new GridFieldProvider(gp, gp.Factorize(), ctx.Coordinates, ctx.Fields, ctx.Parameter);
        var denseFields = DenseGpObjective.Provider(gp, ctx);
        double worstField = problem.Domain.CoordinateNames.Select(axis =>
        {
            var d = new Symbolic.FieldDerivative(problem.Fields[0], [axis, axis]);
            var a = gridFields.Field(d);
            var b = denseFields.Field(d);
            return (a - b).abs().max().ToDouble() / b.abs().max().ToDouble();
        }).Max();
        double Total(double[] v) => v[0] + terms.Select((t, i) => t.Weight * v[i + 1]).Sum();
        return (Total(kron), Total(dense), worstTerm, worstField);
    }

    static StepContext Context(GridGpField gp, Problem problem) =>
        new(gp, problem.Domain.CoordinateNames, problem.Fields,
            name => tensor(problem.ParameterValues[name], dtype: gp.DType, device: gp.Device));

    void Summarise(List<BenchRow> rows)
    {
        var kron = rows.Where(r => r.Case == "kronecker" && r.MedianMs is not null).ToList();
        var dense = rows.Where(r => r.Case == "dense" && r.MedianMs is not null).ToList();
        var fit = kron.Where(r => r.Size >= (long)FitFrom * FitFrom).ToList();
        if (fit.Count >= 2)
            _findings.Add(string.Create(CultureInfo.InvariantCulture,
                $"Kronecker growth exponent (least-squares slope of log time vs log N, grids ≥ {FitFrom}², {fit.Count} sizes): " +
                $"{Slope(fit):F2} (expected ≈ 1–1.5: O(Σ n_j³ + N Σ n_j) = O(N^1.5) for a square 2-D grid)."));
        var smallKron = kron.Where(r => r.Size <= (long)DenseSizes.Max() * DenseSizes.Max()).ToList();
        if (smallKron.Count >= 2)
            _findings.Add(string.Create(CultureInfo.InvariantCulture,
                $"Kronecker exponent on the dense baseline's sizes ({smallKron.Count} sizes): {Slope(smallKron):F2} (per-call overhead dominates there)."));
        if (dense.Count >= 2)
            _findings.Add(string.Create(CultureInfo.InvariantCulture,
                $"Dense growth exponent ({dense.Count} sizes, N ≤ {dense.Max(r => r.Size)}): {Slope(dense):F2} (expected → 3: N × N Cholesky and its backward)."));
        var common = dense.Where(d => kron.Any(k => k.Size == d.Size)).MaxBy(d => d.Size);
        if (common is not null)
        {
            var k = kron.First(r => r.Size == common.Size);
            _findings.Add(string.Create(CultureInfo.InvariantCulture,
                $"At the largest common grid, {common.Parameters}: dense {BenchTimer.Ms(common.MedianMs!.Value)} ms vs Kronecker " +
                $"{BenchTimer.Ms(k.MedianMs!.Value)} ms per step, ratio {common.MedianMs / k.MedianMs:F0}×."));
        }
    }

    static double Slope(IReadOnlyList<BenchRow> rows) =>
        BenchTimer.LogLogSlope(rows.Select(r => (double)r.Size!.Value).ToList(), rows.Select(r => r.MedianMs!.Value).ToList());

    public static GridGpField NewField(Problem problem, int n)
    {
        // The grid must resolve F: below 253 points on [0, 2π] F = 20 is above Nyquist, so the benchmark
        // lowers it there. F sets the kernel's initial values, never the amount of work.
        double length = problem.Domain.Axes[0].Length;
        double nyquist = (n - 1) / (2 * length);
        var options = new GpOptions
        {
            Kernel = "gm",
            Components = Components,
            MaxFrequency = new Dictionary<string, double> { ["*"] = Math.Min(MaxFrequency, nyquist) },
            Grid = new Dictionary<string, int> { ["*"] = n },
        };
        return new GridGpField(options, problem, ScalarType.Float64, CPU);
    }

    /// <summary>U = Z ×_1 L_1 ×_2 L_2 with Z standard normal: a sample of the GP prior (seeded).</summary>
    public static void DrawValuesFromPrior(GridGpField gp, int seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        var step = gp.Factorize();
        for (int f = 0; f < gp.OutputDim; f++)
        {
            Tensor u = randn(gp.Values(f).shape, dtype: gp.DType, device: gp.Device, generator: generator);
            for (int j = 0; j < gp.Axes.Count; j++) u = Kronecker.ModeProduct(u, step.Lower[j], j);
            gp.Values(f).copy_(u);
        }
    }
}
