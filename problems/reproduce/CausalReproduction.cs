using System.Diagnostics;
using System.Globalization;
using System.Text;
using Pinn.Config;
using Pinn.Training;

namespace Pinn.Problems;

/// <summary>
/// `pinn reproduce causal`: the benchmarks of "Respecting causality is all you need for training
/// physics-informed neural networks" (Wang, Sankaran &amp; Perdikaris) with and without causal
/// weighting, side by side with the paper's relative L2 errors (PAPERS.md §1), in results/causal.md.
/// The quick budget fits 2 CPU cores in under 30 minutes and is far below the paper's (3e5 steps
/// on a GPU), so its numbers show the trend, not the paper's accuracy; full uses the configs' own budgets.
/// </summary>
public static class CausalReproduction
{
    public sealed record Case(string Benchmark, string Variant, string Paper, string Config, string[] Overrides, string[] Quick);

    static readonly string[] NoCausal = ["training.causal.enabled=false"];

    public static readonly IReadOnlyList<Case> Cases =
    [
        new("Allen–Cahn", "plain MLP, no causal", "4.98e-1", "allen_cahn/allen_cahn.yaml",
            [.. NoCausal, "model.type=mlp", "model.periodic={}"], ["training.steps=5000"]),
        new("Allen–Cahn", "causal, MLP", "1.43e-3", "allen_cahn/allen_cahn.yaml",
            ["model.type=mlp"], ["training.steps=5000"]),
        new("Allen–Cahn", "modified MLP, no causal", "—", "allen_cahn/allen_cahn.yaml",
            NoCausal, ["training.steps=5000"]),
        new("Allen–Cahn", "causal, modified MLP", "1.39e-4", "allen_cahn/allen_cahn.yaml",
            [], ["training.steps=5000"]),
        new("Kuramoto–Sivashinsky", "causal, modified MLP, time marching", "3.49e-4", "ks/ks.yaml",
            [], ["training.steps=400", "training.time_windows=4", "model.layers=[64, 64, 64, 64]", "training.batch.pde=2048"]),
        new("Advection (c = 50)", "no causal", "—", "advection/advection.yaml",
            NoCausal, ["training.steps=2000"]),
        new("Advection (c = 50)", "causal", "6.88e-4 (follow-up)", "advection/advection.yaml",
            [], ["training.steps=2000"]),
        new("Wave", "causal + grad-norm balancing", "—", "wave/wave.yaml",
            [], ["training.steps=2000"]),
    ];

    /// <summary>Quick-budget settings shared by every case: smaller batches and networks for 2 CPU cores.</summary>
    static readonly string[] QuickCommon =
    [
        "model.layers=[64, 64, 64, 64]", "training.batch.pde=2048", "training.batch.ic=256", "training.decay_steps=1000",
        "training.log_every=250", "training.eval_every=0", "training.checkpoint_every=0",
    ];

    public static string Run(string budget, string outDir, IProblemCatalog catalog, TextWriter progress, string problemsDir)
    {
        if (budget is not ("quick" or "full")) throw new PinnException($"--budget: unknown budget '{budget}' (use quick or full)");
        var rows = new List<string>();
        var device = "";
        var clock = Stopwatch.StartNew();
        foreach (var c in Cases)
        {
            var overrides = new List<string> { $"output.dir={outDir}", $"output.name=causal-{budget}-{Slug(c.Variant)}" };
            if (budget == "quick") overrides.AddRange(QuickCommon);
            overrides.AddRange(c.Overrides);
            if (budget == "quick") overrides.AddRange(c.Quick);
            var cfg = RunConfigLoader.Load(Path.Combine(problemsDir, c.Config), catalog, overrides);
            progress.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {c.Benchmark}, {c.Variant}: {cfg.Training.Steps} steps…");
            var outcome = Runner.Run(cfg, display: null);
            var r = outcome.Result;
            device = outcome.Config.Training.Device == "auto" ? (TorchSharp.torch.cuda.is_available() ? "cuda" : "cpu") : outcome.Config.Training.Device;
            var ours = r.Error is null ? "—" : r.Error.RelativeL2.ToString("0.00e+00", CultureInfo.InvariantCulture);
            var steps = cfg.Training.TimeWindows > 1 ? $"{cfg.Training.TimeWindows} × {cfg.Training.Steps}" : $"{r.AdamSteps}";
            progress.WriteLine($"    relative L2 {ours} in {r.Seconds:F0} s ({r.Status})");
            rows.Add($"| {c.Benchmark} | {c.Variant} | {c.Paper} | {ours} | {steps} | {r.Seconds / 60:F1} | {device} | {(r.Status == "completed" ? "" : r.Status)} |");
        }
        var md = new StringBuilder();
        md.AppendLine("# Causal training (Wang, Sankaran & Perdikaris) — paper vs Pinn");
        md.AppendLine();
        md.AppendLine($"Budget **{budget}**, written by `pinn reproduce causal --budget {budget}` on {DateTime.UtcNow:yyyy-MM-dd} " +
                      $"({Environment.ProcessorCount} cores, {TorchSharp.torch.get_num_threads()} threads, {clock.Elapsed.TotalMinutes:F1} min in all).");
        if (budget == "quick")
            md.AppendLine("The quick budget is ~100× below the paper's (3e5 Adam steps on a 100×256 grid, on a GPU): it shows the trend " +
                          "with and without causal weighting at equal budget, not the paper's accuracy.");
        md.AppendLine();
        md.AppendLine("| benchmark | variant | paper rel. L2 | ours rel. L2 | Adam steps | minutes | device | note |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var row in rows) md.AppendLine(row);
        return Reproduction.Write(outDir, "causal.md", md);
    }

    static string Slug(string s) => Reproduction.Slug(s);
}
