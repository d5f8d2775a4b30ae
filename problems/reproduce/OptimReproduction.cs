using System.Globalization;
using System.Text;
using System.Text.Json;
using Pinn.Reporting;
using Pinn.Sweeps;

namespace Pinn.Problems;

/// <summary>
/// What `pinn reproduce optim` adds below the sweep report of problems/reproduce/optim.yaml: a details table (the steps of
/// every phase, parameters, loss evaluations per line search, why the last phase stopped — read from each run's
/// metrics.json) and the error-vs-wall-time curves of every problem, one panel each, in the sweep folder (optim.png).
/// The cases themselves (record config × optimiser, wall time per budget, targets, published numbers) live in the sweep file.
/// </summary>
public static class OptimReproduction
{
    /// <summary>Runs side by side (each on one libtorch thread): 2 on our 2-core machines.</summary>
    public const int Jobs = 2;

    /// <summary>The details table (Markdown, with its heading) of the collected sweep; writes optim.png into its folder.</summary>
    public static string Details(SweepReport.Result report, TextWriter progress)
    {
        var md = new StringBuilder();
        md.AppendLine();
        md.AppendLine("## Details per run");
        md.AppendLine();
        md.AppendLine("*steps*: per phase; *evals/LS*: loss evaluations per line search of the last phase (LM: per iteration, trial steps " +
                      "included); *stop*: why the last phase ended (the time limit, unless it converged or its line search failed). " +
                      "The best final error of each problem is in bold.");
        md.AppendLine();
        md.AppendLine("| problem | method | rel. L2 (final) | steps | minutes | parameters | evals/LS | stop |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        var best = report.Runs.Where(r => r.Metrics.ContainsKey("rel_l2"))
                         .GroupBy(r => r.Entry.Run.Meta.GetValueOrDefault("benchmark", ""))
                         .ToDictionary(g => g.Key, g => g.Min(r => r.Metrics["rel_l2"]));
        foreach (var r in report.Runs.Where(r => r.Status != "not run")) // the report above names the runs not started yet
        {
            var meta = r.Entry.Run.Meta;
            var benchmark = meta.GetValueOrDefault("benchmark", r.Entry.Run.Name);
            var (steps, parameters, evals, stop) = Phases(Path.Combine(r.RunDir, "metrics.json"));
            string error = r.Metrics.TryGetValue("rel_l2", out var e) ? Reproduction.Sci(e) : "—";
            if (r.Metrics.ContainsKey("rel_l2") && best.TryGetValue(benchmark, out var b) && e == b) error = $"**{error}**";
            string minutes = r.Metrics.TryGetValue("seconds", out var s) ? (s / 60).ToString("F1", CultureInfo.InvariantCulture) : "—";
            if (r.Status != "completed") stop = $"{r.Status}{(r.Error is { } why ? ": " + why : "")}";
            md.AppendLine($"| {benchmark} | {meta.GetValueOrDefault("method", "")} | {error} | {steps} | {minutes} | {parameters} | {evals} | {stop.Replace("|", "/").Replace('\n', ' ')} |");
        }
        var panels = report.Runs.GroupBy(r => r.Entry.Run.Meta.GetValueOrDefault("benchmark", r.Entry.Run.Name))
            .Select(g => (g.Key, (IReadOnlyList<(string, string)>)g.Select(r => (r.Entry.Run.Meta.GetValueOrDefault("method", r.Entry.Run.Name), Path.Combine(r.RunDir, "log.csv")))
                                                                 .Where(x => File.Exists(x.Item2)).ToList()))
            .Where(p => p.Item2.Count > 0).ToList();
        if (panels.Count > 0)
        {
            var plot = Path.Combine(report.Manifest.Directory, "optim.png");
            RunPlots.ErrorVsTime(plot, panels);
            progress.WriteLine($"wrote {plot}");
        }
        return md.ToString();
    }

    /// <summary>"1000 adam + 4321 ssbroyden", the parameter count, the last phase's evaluations per line search and its stop reason.</summary>
    static (string Steps, string Parameters, string Evals, string Stop) Phases(string metrics)
    {
        if (!File.Exists(metrics)) return ("—", "—", "—", "");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(metrics));
            var m = doc.RootElement;
            var steps = new List<string>();
            string evals = "—", stop = "";
            if (m.TryGetProperty("phases", out var phases) && phases.ValueKind == JsonValueKind.Array)
                foreach (var p in phases.EnumerateArray())
                {
                    var name = p.GetProperty("optimizer").GetString();
                    steps.Add($"{p.GetProperty("steps").GetInt32()} {name}");
                    if (name == "adam") continue;
                    evals = p.TryGetProperty("evaluations_per_line_search", out var v) && v.ValueKind == JsonValueKind.Number
                        ? v.GetDouble().ToString("F2", CultureInfo.InvariantCulture) : "—";
                    stop = p.TryGetProperty("stop", out var s) ? s.GetString() ?? "" : "";
                }
            var parameters = m.TryGetProperty("parameter_count", out var pc) ? pc.GetInt64().ToString(CultureInfo.InvariantCulture) : "—";
            return (steps.Count > 0 ? string.Join(" + ", steps) : "—", parameters, evals, stop);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return ("—", "—", "—", $"unreadable metrics.json: {e.Message}");
        }
    }
}
