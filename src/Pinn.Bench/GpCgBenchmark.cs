using System.Globalization;
using Pinn.Gp;
using Pinn.Problems;
using Pinn.Training;
using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Bench;

/// <summary>
/// The matrix-free grid-value solve (issue 15): one Gauss–Newton step of <see cref="GridValueSolve"/> — factorise, linearise,
/// build the preconditioner, CG to <see cref="CgTolerance"/> — on the 2-D Poisson problems at growing grids, for each
/// CG variant (whitened alone vs whitened + <see cref="SpectralPreconditioner"/>): CG iterations, time per outer iteration,
/// its growth exponent in N, and peak memory. The kernel is the solver's initial one (Q = 30 components on [0, F]) and the
/// noise precisions are set to <see cref="PdePrecision"/> (residual) and 1 (boundary): the regime of a solve once Adam has
/// raised τ, where the system is stiffest (at τ = 1 both variants need few iterations).
/// </summary>
public sealed class GpCgBenchmark : IBenchmarkSuite
{
    const double CgTolerance = 1e-10;
    const double PdePrecision = 1e4;
    const int Components = 30;
    static readonly int[] Sizes = [50, 100, 200, 400, 1000];
    static readonly int[] QuickSizes = [50, 100, 200];
    /// <summary>The unpreconditioned variant is capped: it is measured for the choice, not run at scale.</summary>
    const int WhitenedCap = 3000;
    const int WhitenedUpTo = 400;
    static readonly (string Problem, double F)[] Problems = [("poisson2d_sin100", 20), ("poisson2d_smooth", 8)];

    readonly List<string> _findings = [];

    public string Name => "gpcg";
    public string Description =>
        $"GP grid-value solve: one Gauss–Newton step (factorise, linearise, preconditioner, CG to relative residual {CgTolerance:G1}) " +
        $"on poisson2d_sin100 ([0, 2π]², F = 20, lowered to Nyquist on small grids) and poisson2d_smooth ([0, 1]², F = 8), " +
        $"gm kernel Q = {Components}, U = 0, τ_pde = {PdePrecision:G1}, τ_bc = 1; CG whitened (U = L V) alone vs + spectral preconditioner";
    public IReadOnlyList<string> Findings => _findings;

    public IReadOnlyList<BenchRow> Run(BenchOptions options)
    {
        _findings.Clear();
        var rows = new List<BenchRow>();
        foreach (var (name, f) in Problems)
            foreach (int n in options.Quick ? QuickSizes : Sizes)
            {
                if (name != Problems[0].Problem && n > 200) continue; // the scaling is measured on one problem
                rows.Add(Case(name, f, n, "spectral", options));
                if (n <= WhitenedUpTo) rows.Add(Case(name, f, n, "whitened", options));
            }
        Summarise(rows);
        return rows;
    }

    BenchRow Case(string name, double maxFrequency, int n, string preconditioner, BenchOptions options)
    {
        var problem = HighFrequencyBenchmark.All[name]();
        long nodes = (long)n * n;
        PeakMemory.Reset();
        double nyquist = (n - 1) / (2 * problem.Domain.Axes[0].Length);
        var o = new GpOptions
        {
            Components = Components,
            MaxFrequency = new Dictionary<string, double> { ["*"] = Math.Min(maxFrequency, nyquist) },
            Grid = new Dictionary<string, int> { ["*"] = n },
            SolvePreconditioner = preconditioner,
            SolveTolerance = CgTolerance,
            SolveMaxCg = preconditioner == "whitened" ? WhitenedCap : new GpOptions().SolveMaxCg,
        };
        using var gp = new GridGpField(o, problem, ScalarType.Float64, CPU);
        var terms = gp.CreateTerms(problem, TrainingOptions.GpDefaults);
        using (no_grad())
            foreach (var t in terms.OfType<GpLikelihoodTerm>().Where(t => t.Kind == "pde")) gp.LogPrecision(t.Name).fill_(Math.Log(PdePrecision));
        var ctx = new StepContext(gp, problem.Domain.CoordinateNames, problem.Fields,
                                  p => tensor(problem.ParameterValues[p], dtype: ScalarType.Float64));
        int repeats = n >= 400 ? 1 : options.Quick ? 2 : 3;
        var samples = new List<double>();
        int iterations = 0;
        double relative = double.NaN;
        for (int i = 0; i < repeats; i++)
            samples.Add(BenchTimer.Once(() =>
            {
                using var scope = NewDisposeScope();
                GridStep step;
                using (no_grad()) step = gp.Factorize();
                var objective = new GridValueResiduals(gp, step, ctx, terms);
                var lin = objective.Linearise(objective.Flatten());
                var (_, result) = GridValueSolve.Direction(lin, o, new CgOptions { Tolerance = o.SolveTolerance, MaxIterations = o.SolveMaxCg });
                (iterations, relative) = (result.Iterations, result.RelativeResidual);
            }));
        double rss = PeakMemory.Megabytes();
        double median = BenchTimer.Median(samples);
        string notes = string.Create(CultureInfo.InvariantCulture,
            $"CG {iterations} it{(iterations >= o.SolveMaxCg ? " (cap)" : "")}, rel. residual {relative:E1}, {median / Math.Max(iterations, 1):F1} ms/CG it");
        return new BenchRow(Name, $"{name} {preconditioner}", $"{n}×{n} (N = {nodes})", median, samples.Min(), samples.Count, rss, notes, nodes)
        { };
    }

    void Summarise(List<BenchRow> rows)
    {
        static int Iterations(BenchRow r) => int.Parse(r.Notes.Split(' ')[1], CultureInfo.InvariantCulture);
        foreach (var (name, _) in Problems)
        {
            var pairs = rows.Where(r => r.Case == $"{name} spectral")
                            .Select(s => (s, w: rows.FirstOrDefault(w => w.Case == $"{name} whitened" && w.Size == s.Size)))
                            .Where(p => p.w is not null).ToList();
            if (pairs.Count > 0)
                _findings.Add($"{name}: CG iterations whitened / spectral: " + string.Join(", ", pairs.Select(p =>
                    string.Create(CultureInfo.InvariantCulture, $"{p.s.Parameters.Split(' ')[0]} {Iterations(p.w!)}/{Iterations(p.s)}"))) + ".");
        }
        var fit = rows.Where(r => r.Case == $"{Problems[0].Problem} spectral" && r.Size >= 100 * 100).ToList();
        if (fit.Count >= 2)
        {
            double time = BenchTimer.LogLogSlope(fit.Select(r => (double)r.Size!.Value).ToList(), fit.Select(r => r.MedianMs!.Value).ToList());
            double perIt = BenchTimer.LogLogSlope(fit.Select(r => (double)r.Size!.Value).ToList(),
                                                  fit.Select(r => r.MedianMs!.Value / Math.Max(1, Iterations(r))).ToList());
            _findings.Add(string.Create(CultureInfo.InvariantCulture,
                $"{Problems[0].Problem}, spectral, grids ≥ 100² ({fit.Count} sizes): time per outer iteration grows like N^{time:F2}, " +
                $"time per CG iteration like N^{perIt:F2} (a product is O(N Σ n_j) = O(N^1.5) on a square grid)."));
        }
    }
}
