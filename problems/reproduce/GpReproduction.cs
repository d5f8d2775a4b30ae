using System.Globalization;
using System.Text;
using Pinn.Config;
using Pinn.Gp;
using Pinn.Sweeps;

namespace Pinn.Problems;

/// <summary>
/// What `pinn reproduce gp` adds below the sweep report of problems/reproduce/gp.yaml (issue 15, item 3): for every GP
/// case, a second-order finite-difference solution on the same grid (<see cref="FiniteDifferenceBaseline"/>) and its error,
/// so the table shows where the GP is worth its cost. Solved here, now: seconds, not a run.
/// </summary>
public static class GpReproduction
{
    public static string FiniteDifferenceTable(SweepReport.Result report, IProblemCatalog catalog, TextWriter progress)
    {
        var m = report.Manifest;
        var md = new StringBuilder();
        md.AppendLine();
        md.AppendLine("## A classical baseline: second-order finite differences on the GP's grid");
        md.AppendLine();
        md.AppendLine("The same equations and Dirichlet data, three-point differences (one-sided of second order at the ends), " +
                      "Newton with preconditioned BiCGStab (`Gp/FiniteDifferenceBaseline.cs`). Its error is at the grid nodes; " +
                      "the GP's is on the evaluation grid (final iterate, best of its rows). Where FD at the GP's grid is already below the GP's error, the GP's grid is not where its value lies; " +
                      "where FD is O(1) (a few nodes per period), only a kernel that learned the frequency can resolve the solution.");
        md.AppendLine();
        md.AppendLine("| benchmark | grid | GP rel. L2 | FD rel. L2 | FD Newton steps / BiCGStab its | FD seconds |");
        md.AppendLine("|---|---|---|---|---|---|");
        var seen = new HashSet<string>();
        foreach (var row in report.Runs)
        {
            var e = row.Entry;
            if (e.ConfigError is not null) continue;
            var cfg = RunConfigLoader.Load(e.Run.Config, catalog, SweepManifest.RunOverrides(e.Run, m.Directory));
            if (cfg.Model.Type != "gp") continue;
            var problem = cfg.Problem;
            var counts = problem.Domain.Axes.Select(a => cfg.Model.Gp.GridFor(a.Name)).ToArray();
            var grid = string.Join("×", counts);
            if (!seen.Add($"{problem.Name}/{grid}")) continue;
            var gpBest = report.Runs.Where(r => r.Entry.Run.Config == e.Run.Config && r.Metrics.ContainsKey("rel_l2")
                                                && r.Entry.Run.Meta.GetValueOrDefault("solver", "").StartsWith("GP", StringComparison.Ordinal))
                               .Select(r => r.Metrics["rel_l2"]).DefaultIfEmpty(double.NaN).Min();
            progress.WriteLine($"finite differences: {problem.Name} on {grid}…");
            var fd = FiniteDifferenceBaseline.Solve(problem, counts);
            var benchmark = e.Run.Meta.GetValueOrDefault("benchmark", problem.Name);
            md.AppendLine(fd.NotApplicable is { } why
                ? $"| {benchmark} | {grid} | {Reproduction.Sci(gpBest)} | n/a ({why}) | — | — |"
                : $"| {benchmark} | {grid} | {Reproduction.Sci(gpBest)} | {Reproduction.Sci(fd.RelativeL2)} | {fd.NewtonSteps} / {fd.KrylovIterations} | " +
                  $"{fd.Seconds.ToString("F1", CultureInfo.InvariantCulture)} |");
        }
        return md.ToString();
    }
}
