using System.Diagnostics;
using System.Globalization;
using System.Text;
using Pinn.Config;
using Pinn.Training;

namespace Pinn.Problems;

/// <summary>
/// `pinn reproduce inverse`: parameter identification (Burgers from the published burgers_shock.mat, clean and with 1% noise —
/// Raissi, Perdikaris, Karniadakis 2019; Navier–Stokes from Taylor–Green velocity data) and eigenproblems (the quantum-well
/// paper's three potentials, first three states each, against the Schrödinger solver), in results/inverse.md. Each case is
/// one config under problems/ run as it stands (the quick and full budgets are the same: every case fits a few minutes).
/// </summary>
public static class InverseReproduction
{
    /// <param name="Published">What the paper reports for this case, in words.</param>
    /// <param name="Target">The issue's target: the largest relative error accepted (parameters or eigenvalues).</param>
    public sealed record Case(string Benchmark, string Config, string Published, double Target, string[]? Overrides = null, double? FieldTarget = null);

    public static readonly IReadOnlyList<Case> Parameters =
    [
        new("Burgers, λ1 u u_x = λ2 u_xx, 2000 points of burgers_shock.mat, clean", "inverse/burgers_shock.yaml",
            "λ1 0.0%, λ2 0.02% (Raissi 2019, Table 1: clean data)", 1e-3),
        new("Burgers, as above, 1% noise", "inverse/burgers_shock_noisy.yaml", "λ1 0.07%, λ2 0.5% (Raissi 2019, 1% noise)", 1e-2),
        new("Navier–Stokes, Taylor–Green, λ1 (convection), λ2 (viscosity) from 2000 velocity and 200 pressure values", "inverse/taylor_green.yaml",
            "— (the paper's cylinder wake: λ1 0.08%, λ2 5.3%)", 5e-3),
    ];

    public static readonly IReadOnlyList<Case> Eigen =
    [
        new("Infinite square well, E = n²π²", "eigen/infinite_well_states.yaml", "ground state only (quantum-well paper)", 1e-4, FieldTarget: 1e-3),
        new("Finite square well, V0 = 100 outside abs(x − ½) < ¼", "eigen/finite_well.yaml", "ground state only", 1e-4, FieldTarget: 1e-3),
        new("Finite barrier, V0 = 100 on abs(x − ½) < 0.1", "eigen/finite_barrier.yaml", "ground state only", 1e-4, FieldTarget: 1e-3),
    ];

    public static string Run(string budget, string outDir, IProblemCatalog catalog, TextWriter progress, string problemsDir, string? only = null)
    {
        if (budget is not ("quick" or "full")) throw new PinnException($"--budget: unknown budget '{budget}' (use quick or full)");
        var clock = Stopwatch.StartNew();
        bool Selected(Case c) => only is null || c.Config.Contains(only, StringComparison.OrdinalIgnoreCase) || c.Benchmark.Contains(only, StringComparison.OrdinalIgnoreCase);
        var md = new StringBuilder();
        md.AppendLine("# Inverse and eigenvalue problems");
        md.AppendLine();
        md.AppendLine($"Written by `pinn reproduce inverse` on {DateTime.UtcNow:yyyy-MM-dd} ({Environment.ProcessorCount} cores, " +
                      $"{TorchSharp.torch.get_num_threads()} threads, CPU, float64). Every number is the final iterate of one run (seed 0); " +
                      "the configs are the files named in each row.");
        md.AppendLine();
        md.AppendLine("## Parameter identification");
        md.AppendLine();
        md.AppendLine("| case | parameter | ours | truth | rel. error | target | published | minutes | config |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var c in Parameters.Where(Selected))
        {
            var cfg = Load(c, outDir, catalog, problemsDir);
            progress.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {c.Benchmark}…");
            var r = Runner.Run(cfg).Result;
            foreach (var p in r.Identified ?? [])
            {
                var row = $"| {c.Benchmark} | {p.Name} | {G(p.Value)} | {G(p.Truth)} | {Pct(p.RelativeError)} | ≤ {Pct(c.Target)} | {c.Published} | " +
                          $"{r.Seconds / 60:F1} | `{c.Config}`{(r.Status == "completed" ? "" : $" ({r.Status})")} |";
                md.AppendLine(row);
                progress.WriteLine($"    {p.Describe()}");
            }
        }
        md.AppendLine();
        md.AppendLine("## Eigenvalue problems (−ψ'' + V ψ = E ψ on [0, 1], ψ(0) = ψ(1) = 0, ∫ψ² = 1)");
        md.AppendLine();
        md.AppendLine("States in sequence, each orthogonal to those found before it; references from the finite-difference Schrödinger " +
                      "solver (Richardson-extrapolated; its energies match n²π² and the wells' transcendental roots, " +
                      "tests/Pinn.Tests/References/SchrodingerReferenceTests.cs). ψ errors are up to sign.");
        md.AppendLine();
        md.AppendLine("| potential | state | E ours | E reference | rel. error | ψ rel. L2 | targets (E, ψ) | minutes | config |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var c in Eigen.Where(Selected))
        {
            var cfg = Load(c, outDir, catalog, problemsDir);
            progress.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {c.Benchmark}…");
            var (_, states) = EigenSequence.Run(cfg);
            foreach (var s in states)
            {
                var r = s.Run.Result;
                md.AppendLine($"| {c.Benchmark} | {s.State} | {G(s.Eigenvalue)} | {G(s.Reference)} | {Reproduction.Sci(s.RelativeError ?? double.NaN)} | " +
                              $"{Reproduction.Sci(r.Error?.RelativeL2 ?? double.NaN)} | {Reproduction.Sci(c.Target)}, {Reproduction.Sci(c.FieldTarget ?? double.NaN)} | " +
                              $"{r.Seconds / 60:F1} | `{c.Config}`{(r.Status == "completed" ? "" : $" ({r.Status})")} |");
                progress.WriteLine($"    state {s.State}: E = {G(s.Eigenvalue)} (reference {G(s.Reference)}), ψ rel. L2 {Reproduction.Sci(r.Error?.RelativeL2 ?? double.NaN)}");
            }
        }
        md.AppendLine();
        md.AppendLine($"{clock.Elapsed.TotalMinutes:F1} minutes in all.");
        return Reproduction.Write(outDir, "inverse.md", md);
    }

    static RunConfig Load(Case c, string outDir, IProblemCatalog catalog, string problemsDir) =>
        RunConfigLoader.Load(Path.Combine(problemsDir, c.Config), catalog,
                             [$"output.dir={outDir}", $"output.name=inverse-{Reproduction.Slug(c.Benchmark)[..Math.Min(24, c.Benchmark.Length)]}",
                              .. c.Overrides ?? []]);

    static string G(double? v) => v is { } x ? x.ToString("G6", CultureInfo.InvariantCulture) : "—";
    static string Pct(double? v) => v is { } x ? (100 * x).ToString("0.###", CultureInfo.InvariantCulture) + "%" : "—";
}
