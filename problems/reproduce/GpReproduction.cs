using System.Diagnostics;
using System.Globalization;
using System.Text;
using Pinn.Config;
using Pinn.Training;

namespace Pinn.Problems;

/// <summary>
/// `pinn reproduce gp`: the benchmarks of "Solving High Frequency and Multi-Scale PDEs with Gaussian
/// Processes" (Fang et al., ICLR 2024; PAPERS.md §3) with our Kronecker GP solver, and a PINN on the
/// same problem at equal wall time, in results/gp.md. The quick budget fits 2 CPU cores in under
/// 30 minutes; full uses the configs' own step counts (hours on a CPU, still far below the paper's
/// 1e5–3e6 steps).
/// </summary>
public static class GpReproduction
{
    /// <param name="Quick">Adam steps of the GP run under the quick budget (the learning rate halves at the midpoint).</param>
    /// <param name="BothKernels">Also run the Matérn-envelope (StM) kernel under the quick budget (full: always).</param>
    public sealed record Case(string Benchmark, string Problem, int Quick, bool BothKernels = false);

    public static readonly IReadOnlyList<Case> Cases =
    [
        new("Poisson 1D, sin(100x)", "poisson1d_sin100", 2000, BothKernels: true),
        new("Poisson 1D, sin(6x)cos(100x)", "poisson1d_sin6cos100", 2000),
        new("Poisson 1D, x·sin(200x)", "poisson1d_xsin200", 1500),
        new("Poisson 1D, sin(500x) − 2(x − 0.5)²", "poisson1d_sin500", 1500),
        new("Poisson 1D, sin x + 0.1 sin 20x + 0.05 cos 100x", "poisson1d_multiscale", 2000),
        new("Allen–Cahn 1D, sin(100x)", "allen_cahn1d_sin100", 2000, BothKernels: true),
        new("Allen–Cahn 1D, sin(6x)cos(100x)", "allen_cahn1d_sin6cos100", 2000),
        new("Poisson 2D, sin(100x)sin(100y)", "poisson2d_sin100", 600),
        new("Poisson 2D, sin(6x)cos(20x) + sin(6y)cos(20y)", "poisson2d_sin6cos20", 1000, BothKernels: true),
        new("Allen–Cahn 2D, Π(sin z + 0.1 sin 20z + cos 100z)", "allen_cahn2d_multiscale", 1500),
        new("Advection, sin(x − 200t)", "advection_sin200", 1000),
    ];

    public static string Run(string budget, string outDir, IProblemCatalog catalog, TextWriter progress, string problemsDir)
    {
        if (budget is not ("quick" or "full")) throw new PinnException($"--budget: unknown budget '{budget}' (use quick or full)");
        var rows = new List<string>();
        var clock = Stopwatch.StartNew();
        foreach (var c in Cases)
        {
            double? gmSeconds = null;
            foreach (var kernel in budget == "full" || c.BothKernels ? new[] { "gm", "stm" } : ["gm"])
            {
                var overrides = new List<string> { $"output.dir={outDir}", $"output.name=gp-{budget}-{kernel}", $"model.kernel={kernel}",
                                                   "training.checkpoint_every=0", "training.log_every=250", "training.eval_every=250" };
                if (budget == "quick") overrides.AddRange([$"training.steps={c.Quick}", $"training.decay_steps={c.Quick / 2}"]);
                var cfg = RunConfigLoader.Load(Path.Combine(problemsDir, "gp", c.Problem + ".yaml"), catalog, overrides);
                progress.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {c.Benchmark}: GP-HM ({kernel}), {cfg.Training.Steps} steps…");
                var run = Reproduction.Train(cfg);
                gmSeconds ??= run.Result.Seconds;
                rows.Add(Row(c.Benchmark, $"GP-HM ({kernel.ToUpperInvariant()}), {string.Join("×", cfg.Problem.Domain.CoordinateNames.Select(cfg.Model.Gp.GridFor))} grid", run.Result, run.Best));
                progress.WriteLine($"    {rows[^1]}");
            }
            var pinn = Pinn(c.Problem, gmSeconds!.Value, outDir, budget, catalog);
            progress.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {c.Benchmark}: PINN for {gmSeconds:F0} s…");
            var p = Runner.Run(pinn).Result;
            rows.Add(Row(c.Benchmark, "PINN, MLP 4×64 tanh, equal wall time", p, null));
            progress.WriteLine($"    {rows[^1]}");
        }
        var md = new StringBuilder();
        md.AppendLine("# GP-HM (Fang et al., ICLR 2024) — Kronecker GP solver vs PINN");
        md.AppendLine();
        md.AppendLine($"Budget **{budget}**, written by `pinn reproduce gp --budget {budget}` on {DateTime.UtcNow:yyyy-MM-dd} " +
                      $"({Environment.ProcessorCount} cores, {TorchSharp.torch.get_num_threads()} threads, CPU, float64 for the GP, " +
                      $"float32 for the PINN; {clock.Elapsed.TotalMinutes:F1} min in all).");
        md.AppendLine();
        md.AppendLine("The paper reports relative L2 errors between about 1e-3 and 1e-7 for GP-HM on these benchmarks (the minimum " +
                      "over 20 checkpoints of 1e5–3e6 Adam steps) while PINNs stay at O(1) on the high frequencies (PAPERS.md §3). " +
                      "**Ours is the final iterate**; the best error seen at the logged checkpoints is a secondary column. " +
                      (budget == "quick"
                          ? "The quick budget runs 600–2000 Adam steps per case — 50× to 1000× below the paper's — with our addition of a " +
                            "dense Gauss–Newton solve for the grid values every 25–100 steps where the grid has ≤ 4096 nodes " +
                            "(`model.solve_every`); the 2-D cases on 100² and 400² grids run Adam alone and are far from converged."
                          : "The full budget runs each config's own step count."));
        md.AppendLine();
        md.AppendLine("| benchmark | solver | ours rel. L2 (final) | best logged | steps | minutes | note |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var row in rows) md.AppendLine(row);
        return Reproduction.Write(outDir, "gp.md", md);
    }

    /// <summary>A plain PINN on the same problem, stopped after <paramref name="seconds"/> of training.</summary>
    static RunConfig Pinn(string problem, double seconds, string outDir, string budget, IProblemCatalog catalog)
    {
        var yaml = $"""
            problem: {problem}
            model: {"{"}type: mlp, layers: [64, 64, 64, 64]{"}"}
            training:
              steps: 1000000
              lr: 1e-3
              decay_steps: 2000
              time_limit: {seconds.ToString("R", CultureInfo.InvariantCulture)}
              sampler: sobol
              log_every: 500
              eval_every: 0
              checkpoint_every: 0
            output: {"{"}dir: {outDir}, name: gp-{budget}-pinn{"}"}
            """;
        return RunConfigLoader.Read(YamlDoc.Parse(yaml, $"<pinn for {problem}>"), catalog);
    }

    static string Row(string benchmark, string solver, TrainingResult r, double? best) =>
        $"| {benchmark} | {solver} | {Reproduction.Sci(r.Error?.RelativeL2 ?? double.NaN)} | {(best is { } b ? Reproduction.Sci(b) : "—")} | " +
        $"{r.AdamSteps} | {r.Seconds / 60:F1} | {(r.Status == "completed" ? "" : r.Status)} |";
}
