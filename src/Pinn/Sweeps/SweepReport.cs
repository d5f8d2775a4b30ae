using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pinn.Sweeps;

/// <summary>
/// <c>pinn report SWEEP_DIR</c>: every run of a sweep with its outcome (from its task record and metrics.json),
/// grouped by the sweep coordinates other than the seed, with mean ± std (sample std, n − 1), min and max of each
/// metric over the seeds that completed. Writes <c>report.md</c>, <c>report.csv</c> (one row per run) and
/// <c>groups.csv</c> (one row per group), and a plot per axis (<see cref="SweepPlots"/>).
/// </summary>
public static class SweepReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One run's outcome. <see cref="Metrics"/>: <c>rel_l2</c>, <c>rel_l2_&lt;field&gt;</c>, <c>final_loss</c>, <c>seconds</c>, <c>param_err_&lt;name&gt;</c>.</summary>
    public sealed record RunRow(SweepManifest.Entry Entry, string Status, int? ExitCode, string? Error,
                                IReadOnlyDictionary<string, double> Metrics, string RunDir);

    public sealed record Stats(int N, double Mean, double Std, double Min, double Max);

    public sealed record Group(string Key, IReadOnlyList<SweepCoordinate> Coordinates, IReadOnlyList<RunRow> Runs,
                               IReadOnlyDictionary<string, Stats> Stats)
    {
        public int Completed => Runs.Count(r => r.Status == "completed");
    }

    public sealed record Result(SweepManifest Manifest, IReadOnlyList<RunRow> Runs, IReadOnlyList<Group> Groups, IReadOnlyList<string> Metrics);

    /// <summary>The state of every run of the sweep in <paramref name="sweepDir"/>.</summary>
    public static Result Collect(string sweepDir)
    {
        var manifest = SweepManifest.Load(sweepDir);
        var rows = manifest.Runs.Select(e => Row(manifest, e)).ToList();
        var metrics = rows.SelectMany(r => r.Metrics.Keys).Distinct().OrderBy(MetricOrder).ThenBy(k => k, StringComparer.Ordinal).ToList();
        var groups = rows.GroupBy(r => r.Entry.Run.Group).Select(g =>
        {
            var done = g.Where(r => r.Status == "completed").ToList();
            var stats = metrics.ToDictionary(m => m, m => Of(done.Select(r => r.Metrics.GetValueOrDefault(m, double.NaN))));
            return new Group(g.Key, g.First().Entry.Run.Coordinates.Where(c => c.Axis != "seed").ToArray(), g.ToList(), stats);
        }).ToList();
        return new Result(manifest, rows, groups, metrics);
    }

    static int MetricOrder(string m) => m switch
    {
        "rel_l2" => 0,
        _ when m.StartsWith("rel_l2_", StringComparison.Ordinal) => 1,
        _ when m.StartsWith("param_err_", StringComparison.Ordinal) => 2,
        "final_loss" => 3,
        _ => 4,
    };

    /// <summary>One run's outcome, read from its task record and metrics.json.</summary>
    public static RunRow Row(SweepManifest manifest, SweepManifest.Entry e)
    {
        var dir = manifest.PathOf(e);
        var record = TaskRecord.Load(manifest.Directory, e.Run.Index);
        var metrics = new Dictionary<string, double>();
        string? status = null, error = record?.Error;
        var file = Path.Combine(dir, "metrics.json");
        if (File.Exists(file))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file));
                var m = doc.RootElement;
                status = m.GetProperty("status").GetString();
                if (Number(m, "relative_l2") is { } l2) metrics["rel_l2"] = l2;
                if (m.TryGetProperty("fields", out var fields) && fields.ValueKind == JsonValueKind.Object && fields.EnumerateObject().Count() > 1)
                    foreach (var f in fields.EnumerateObject())
                        if (Number(f.Value, "relative_l2") is { } v) metrics[$"rel_l2_{f.Name}"] = v;
                if (m.TryGetProperty("parameters", out var ps) && ps.ValueKind == JsonValueKind.Object)
                    foreach (var p in ps.EnumerateObject())
                        if (Number(p.Value, "relative_error") is { } v) metrics[$"param_err_{p.Name}"] = v;
                if (Number(m, "final_loss") is { } loss) metrics["final_loss"] = loss;
                if (Number(m, "wall_seconds") is { } s) metrics["seconds"] = s;
            }
            catch (Exception x) when (x is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                status = "unreadable";
                error = $"{file}: {x.Message}";
            }
        }
        // a task that ended before its run wrote metrics.json: its record says why (or the config error of the expansion)
        status ??= record?.Status ?? (e.ConfigError is not null ? "not run (config error)" : "not run");
        if (status != "completed") error ??= e.ConfigError ?? LogTail(manifest.Directory, e.Run);
        return new RunRow(e, status, record?.ExitCode, error, metrics, dir);
    }

    static double? Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && double.IsFinite(v.GetDouble()) ? v.GetDouble() : null;

    /// <summary>The last line of a task's log that says "error", if the task left no record of its own.</summary>
    static string? LogTail(string sweepDir, SweepRun run)
    {
        var log = LogPath(sweepDir, run);
        if (!File.Exists(log)) return null;
        var lines = File.ReadAllLines(log);
        return lines.LastOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)) ?? lines.LastOrDefault();
    }

    /// <summary>Where a task's stdout and stderr go: <c>logs/&lt;index&gt;.log</c> (both launchers).</summary>
    public static string LogPath(string sweepDir, SweepRun run) => Path.Combine(sweepDir, "logs", $"{run.Index}.log");

    public static Stats Of(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return new Stats(0, double.NaN, double.NaN, double.NaN, double.NaN);
        double mean = v.Average();
        double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : double.NaN;
        return new Stats(v.Length, mean, std, v.Min(), v.Max());
    }

    /// <summary>Writes report.md, report.csv, groups.csv and the plots into the sweep folder; returns the Markdown.</summary>
    public static string Write(Result r)
    {
        var md = Markdown(r);
        var dir = r.Manifest.Directory;
        File.WriteAllText(Path.Combine(dir, "report.md"), md);
        File.WriteAllText(Path.Combine(dir, "report.csv"), RunsCsv(r));
        File.WriteAllText(Path.Combine(dir, "groups.csv"), GroupsCsv(r));
        SweepPlots.Write(r);
        return md;
    }

    public static string Markdown(Result r)
    {
        var sb = new StringBuilder();
        var m = r.Manifest;
        sb.AppendLine($"# {m.Info.GetValueOrDefault("title", $"Sweep {m.Name}")}");
        sb.AppendLine();
        if (m.Info.TryGetValue("note", out var note)) sb.AppendLine(note.Trim()).AppendLine();
        return sb.Append(Table(r)).ToString();
    }

    /// <summary>The summary line, the table of groups and the runs that did not complete (Markdown, no title).</summary>
    public static string Table(Result r)
    {
        var sb = new StringBuilder();
        var m = r.Manifest;
        int done = r.Runs.Count(x => x.Status == "completed");
        var rel = Path.GetRelativePath(Environment.CurrentDirectory, m.Source);
        var source = rel.StartsWith("..", StringComparison.Ordinal) ? m.Source : rel;
        sb.AppendLine($"From `{source}`{(m.Budget is null ? "" : $", budget **{m.Budget}**")}: {r.Runs.Count} runs, {done} completed, {r.Runs.Count - done} not. " +
                      "Mean ± std (sample, n − 1) and [min, max] over the seeds that completed; each run's final iterate.");
        sb.AppendLine();
        var axes = r.Groups.SelectMany(g => g.Coordinates.Select(c => c.Axis)).Distinct().ToList();
        var meta = r.Runs.SelectMany(x => x.Entry.Run.Meta.Keys).Distinct().ToList();
        var header = axes.Concat(meta).Append("completed").Concat(r.Metrics.Select(Title));
        sb.AppendLine("| " + string.Join(" | ", header) + " |");
        sb.AppendLine("|" + string.Concat(header.Select(_ => "---|")));
        foreach (var g in r.Groups)
        {
            var cells = axes.Select(a => g.Coordinates.FirstOrDefault(c => c.Axis == a)?.Value ?? "")
                .Concat(meta.Select(k => g.Runs[0].Entry.Run.Meta.GetValueOrDefault(k, "")))
                .Append($"{g.Completed}/{g.Runs.Count}")
                .Concat(r.Metrics.Select(k => Cell(g.Stats[k], k)));
            sb.AppendLine("| " + string.Join(" | ", cells.Select(Escape)) + " |");
        }
        // runs never started (no record, no results: e.g. left out by --only) are named in one line, not tabulated as failures
        var waiting = r.Runs.Where(x => x.Status == "not run").ToList();
        var failed = r.Runs.Where(x => x.Status is not ("completed" or "not run")).ToList();
        if (waiting.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine($"Not started yet ({waiting.Count}): {string.Join(", ", waiting.Select(x => x.Entry.Run.Name))}.");
        }
        if (failed.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Runs that did not complete");
            sb.AppendLine();
            sb.AppendLine("| run | status | exit code | error |");
            sb.AppendLine("|---|---|---|---|");
            foreach (var x in failed)
                sb.AppendLine($"| {x.Entry.Run.Name} | {x.Status} | {x.ExitCode?.ToString(Inv) ?? "—"} | {Escape(x.Error ?? "")} |");
        }
        return sb.ToString();
    }

    static string Title(string metric) => metric switch
    {
        "rel_l2" => "rel. L2",
        "final_loss" => "final loss",
        "seconds" => "time (s)",
        _ when metric.StartsWith("rel_l2_", StringComparison.Ordinal) => $"rel. L2 {metric[7..]}",
        _ when metric.StartsWith("param_err_", StringComparison.Ordinal) => $"{metric[10..]} rel. error",
        _ => metric,
    };

    static string Cell(Stats s, string metric)
    {
        if (s.N == 0) return "—";
        string F(double v) => metric == "seconds" ? v.ToString("F1", Inv) : v.ToString("0.00e+00", Inv);
        if (s.N == 1) return F(s.Mean);
        return $"{F(s.Mean)} ± {F(s.Std)} [{F(s.Min)}, {F(s.Max)}]";
    }

    static string Escape(string s) => s.Replace("|", "\\|").Replace('\n', ' ');

    static string RunsCsv(Result r)
    {
        var axes = r.Runs.SelectMany(x => x.Entry.Run.Coordinates.Select(c => c.Axis)).Distinct().ToList();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", new[] { "index", "name" }.Concat(axes).Concat(["status", "exit_code"]).Concat(r.Metrics).Append("run_dir").Append("error")));
        foreach (var x in r.Runs)
        {
            var run = x.Entry.Run;
            var cells = new[] { run.Index.ToString(Inv), run.Name }
                .Concat(axes.Select(a => run.Coordinates.FirstOrDefault(c => c.Axis == a)?.Value ?? ""))
                .Concat([x.Status, x.ExitCode?.ToString(Inv) ?? ""])
                .Concat(r.Metrics.Select(k => x.Metrics.TryGetValue(k, out var v) ? v.ToString("R", Inv) : ""))
                .Append(x.RunDir).Append(x.Error ?? "");
            sb.AppendLine(string.Join(",", cells.Select(Csv)));
        }
        return sb.ToString();
    }

    static string GroupsCsv(Result r)
    {
        var axes = r.Groups.SelectMany(g => g.Coordinates.Select(c => c.Axis)).Distinct().ToList();
        var sb = new StringBuilder();
        var stats = r.Metrics.SelectMany(k => new[] { $"{k}_mean", $"{k}_std", $"{k}_min", $"{k}_max" });
        sb.AppendLine(string.Join(",", axes.Concat(["runs", "completed"]).Concat(stats)));
        foreach (var g in r.Groups)
        {
            var cells = axes.Select(a => g.Coordinates.FirstOrDefault(c => c.Axis == a)?.Value ?? "")
                .Concat([g.Runs.Count.ToString(Inv), g.Completed.ToString(Inv)])
                .Concat(r.Metrics.SelectMany(k => new[] { g.Stats[k].Mean, g.Stats[k].Std, g.Stats[k].Min, g.Stats[k].Max })
                                 .Select(v => double.IsFinite(v) ? v.ToString("R", Inv) : ""));
            sb.AppendLine(string.Join(",", cells.Select(Csv)));
        }
        return sb.ToString();
    }

    static string Csv(string s) => s.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{s.Replace("\"", "\"\"")}\"" : s;
}
