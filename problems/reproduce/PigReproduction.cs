using Pinn.Config;
using System.Globalization;
using System.Text;
using Pinn.Models;

namespace Pinn.Problems;

/// <summary>
/// The part of `pinn reproduce pig` that is not a run: the cost of one training step with the cut-off sum against the
/// exact one (flow mixing), appended to results/pig.md. The runs themselves are the sweep file problems/reproduce/pig.yaml.
/// </summary>
public static class PigReproduction
{
    /// <summary>Cost of the cut-off sum: flow mixing (3 coordinates) at these N per channel, σ and batch.</summary>
    static readonly int[] CostCounts = [250, 1000, 4000];
    static readonly double[] CostScales = [0.05, 0.02];
    const int CostPoints = 2048;

    /// <summary>The cost table as a Markdown section (timed here, now).</summary>
    public static string CostTable(string budget, IProblemCatalog catalog, TextWriter progress)
    {
        bool quick = budget == "quick";
        progress.WriteLine($"cost of the cut-off sum (flow mixing, {CostPoints} points)…");
        var costRows = new List<string>();
        var flow = catalog.Create("flow_mixing") ?? throw new PinnException("problem 'flow_mixing' is not in the catalog");
        foreach (var scale in CostScales)
            foreach (var n in CostCounts)
            {
                var t = PigCost.Measure(flow, new GaussianFieldOptions { Count = n, InitScale = scale, Cutoff = GaussianField.DefaultTimingCutoff },
                                        CostPoints, repeats: quick ? 1 : 5);
                progress.WriteLine($"    N = {n}, σ = {scale}: exact + autograd {t.NaiveMs:F0} ms, exact + jets {t.JetMs:F0} ms, cut-off + jets {t.CutoffMs:F0} ms");
                costRows.Add($"| {n} | {4 * n} | {scale} | {t.NaiveMs:F0} | {t.JetMs:F0} | {t.CutoffMs:F0} | {t.NaiveMs / t.JetMs:F1}× | " +
                             $"{t.JetMs / t.CutoffMs:F1}× | {t.NaiveMs / t.CutoffMs:F1}× | {t.MaxDifference:0.0e+00} |");
            }
        var md = new StringBuilder();
        md.AppendLine();
        md.AppendLine($"## Cost of one training step: exact sum vs cut-off ({GaussianField.DefaultTimingCutoff:G}σ)");
        md.AppendLine();
        md.AppendLine($"Flow mixing, 3 coordinates, k = 4 channels, {CostPoints} collocation points, float32, {TorchSharp.torch.get_num_threads()} thread(s); " +
                      "forward pass, residual (first derivatives) and backward pass, median of repeats. *exact* sums all Gaussians " +
                      "(in chunks); *cut-off* gathers only the Gaussians of neighbouring bins; derivatives by nested *autograd* or by the " +
                      "closed-form *jets*. *loss diff* is the relative difference between the cut-off and exact losses.");
        md.AppendLine();
        md.AppendLine("| N per channel | Gaussians | σ (of the box) | exact + autograd, ms | exact + jets, ms | cut-off + jets, ms | jets vs autograd | cut-off vs exact (jets) | cut-off + jets vs exact + autograd | loss diff |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in costRows) md.AppendLine(row);
        return md.ToString();
    }
}
