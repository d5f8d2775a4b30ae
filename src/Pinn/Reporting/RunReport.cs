using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pinn.Reporting;

/// <summary>One run's headline numbers, read back from its metrics.json.</summary>
public sealed record RunSummary(string Path, string Problem, string Status, int AdamSteps, int LbfgsSteps,
                                double Seconds, string Device, IReadOnlyDictionary<string, double> RelativeL2);

/// <summary>The runs under a results folder as one table (what <c>pinn report</c> prints and writes as summary.md).</summary>
public static class RunReport
{
    public static IReadOnlyList<RunSummary> Collect(string root)
    {
        if (!Directory.Exists(root)) throw new PinnException($"results folder not found: {root}");
        var runs = new List<RunSummary>();
        foreach (var file in Directory.EnumerateFiles(root, "metrics.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file));
                var m = doc.RootElement;
                var errors = new Dictionary<string, double>();
                if (m.TryGetProperty("fields", out var fields))
                    foreach (var f in fields.EnumerateObject()) errors[f.Name] = f.Value.GetProperty("relative_l2").GetDouble();
                runs.Add(new RunSummary(System.IO.Path.GetRelativePath(root, System.IO.Path.GetDirectoryName(file)!),
                    m.GetProperty("problem").GetString() ?? "?", m.GetProperty("status").GetString() ?? "?",
                    m.GetProperty("adam_steps").GetInt32(), m.GetProperty("lbfgs_steps").GetInt32(),
                    m.GetProperty("wall_seconds").GetDouble(), m.GetProperty("device").GetString() ?? "?", errors));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new PinnException($"{file}: not a Pinn metrics file ({e.Message})");
            }
        }
        return runs;
    }

    /// <summary>A Markdown table: run, problem, status, steps, time, relative L2 per field.</summary>
    public static string Markdown(IReadOnlyList<RunSummary> runs)
    {
        var fields = runs.SelectMany(r => r.RelativeL2.Keys).Distinct().ToArray();
        var sb = new StringBuilder();
        sb.AppendLine("| run | problem | status | Adam + L-BFGS steps | time (s) | device | " + string.Join(" | ", fields.Select(f => $"rel. L2 {f}")) + " |");
        sb.AppendLine("|---|---|---|---|---|---|" + string.Concat(fields.Select(_ => "---|")));
        foreach (var r in runs)
        {
            var errs = fields.Select(f => r.RelativeL2.TryGetValue(f, out var e) ? e.ToString("0.000e+00", CultureInfo.InvariantCulture) : "");
            var status = r.Status.Length > 40 ? r.Status[..40] + "…" : r.Status;
            sb.AppendLine($"| {r.Path} | {r.Problem} | {status} | {r.AdamSteps} + {r.LbfgsSteps} | {r.Seconds.ToString("F1", CultureInfo.InvariantCulture)} | {r.Device} | {string.Join(" | ", errs)} |");
        }
        return sb.ToString();
    }
}
