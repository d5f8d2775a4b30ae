using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Pinn.Config;
using Pinn.Reporting;
using YamlDotNet.RepresentationModel;

namespace Pinn.Problems;

/// <summary>
/// `pinn reproduce optim`: the record-accuracy configs (small float64 networks, an Adam warm-up, then a dense
/// quasi-Newton phase in RAD resampling cycles; issue 13, OPTIMIZERS.md) against the usual Adam + L-BFGS, each
/// optimiser given the same wall time on the same network, batch and warm-up, in results/optim.md with the
/// published numbers, and the error-vs-wall-time curves in results/optim/optim.png (with the runs' configs and logs).
/// <para>
/// Each case names one record config (problems/…/*_ssbroyden.yaml); a method replaces only its last phase:
/// SSBroyden (the config as written), BFGS (the same phase, renamed), L-BFGS (strong-Wolfe line search on the
/// fixed batch, the way DeepXDE-style runs finish). Runs are separate <c>pinn run</c> processes (one libtorch
/// thread each, <see cref="Jobs"/> at a time: on 2 cores two runs side by side, each on its own core), so a run
/// here is exactly what a user gets from the command line and a crash in one cannot take the table with it.
/// The reported error is the final iterate's (not best-so-far).
/// </para>
/// </summary>
public static class OptimReproduction
{
    /// <param name="Config">Record config, relative to problems/; its last phase is the one a method replaces.</param>
    /// <param name="QuickMinutes">Wall time of every run of this case in the quick budget; <paramref name="FullMinutes"/> in full.</param>
    /// <param name="Published">The best published number for this problem, with its method.</param>
    /// <param name="Target">Issue 13's target for the case (final iterate), shown on the SSBroyden row.</param>
    /// <param name="GaussNewtonTarget">Issue 14's target, shown on the Gauss–Newton rows (LM, …).</param>
    /// <param name="Tuning">Per method slug, config overrides (<c>key=value</c>, as <c>--set</c>) applied after the last phase is rewritten:
    /// e.g. a smaller batch for LM, whose iteration costs N·P² where a quasi-Newton one costs P².</param>
    /// <param name="Only">The method slugs this case runs (null: all that apply).</param>
    /// <param name="Linear">The PDE operator is linear (the methods defined for linear operators only, ENGD, run on it).</param>
    public sealed record Case(string Benchmark, string Config, double QuickMinutes, double FullMinutes, string Published, string Target,
                              string GaussNewtonTarget = "", IReadOnlyDictionary<string, string[]>? Tuning = null, IReadOnlyList<string>? Only = null,
                              bool Linear = false)
    {
        public bool Runs(Method m) => (Only is null || Only.Contains(m.Slug)) && (!m.LinearOnly || Linear);
        public IReadOnlyList<string> TuningOf(Method m) => Tuning is not null && Tuning.TryGetValue(m.Slug, out var t) ? t : [];
    }

    /// <summary>One optimiser in the comparison: its label and how it rewrites the config's last phase.</summary>
    /// <param name="GaussNewton">A residual (Gauss–Newton family) method: its rows show the case's <see cref="Case.GaussNewtonTarget"/>.</param>
    /// <param name="LinearOnly">Defined for linear PDE operators (runs on the cases marked <see cref="Case.Linear"/>).</param>
    public sealed record Method(string Label, string Slug, Func<YamlMappingNode, YamlMappingNode> LastPhase, bool GaussNewton = false,
                                bool LinearOnly = false);

    static readonly IReadOnlyDictionary<string, string[]> None = new Dictionary<string, string[]>();

    public static readonly IReadOnlyList<Case> Cases =
    [
        new("Burgers, ν = 0.01/π", "burgers/burgers_ssbroyden.yaml", 4, 15,
            "8.3e-9 (SSBroyden + RAD, 10⁵ its, GPU)", "≤ 1e-5 in ≤ 15 min", "≤ 1e-6"),
        new("Burgers, ν = 0.01", "burgers/burgers_nu001_ssbroyden.yaml", 4, 20,
            "1.9e-12 (DSGNAR, SIREN 5125 params, GPU)", "", "≤ 1e-7 in ≤ 20 min"),
        new("Allen–Cahn, u_t = 1e-4 u_xx − 5u³ + 5u", "allen_cahn/allen_cahn_ssbroyden.yaml", 8, 30,
            "1.9e-6 (SSBroyden + RAD); causal PINN 1.39e-4", "≤ 1e-4 in ≤ 30 min", "", Only: ["lbfgs", "bfgs", "ssbroyden"]),
        new("Poisson 1-D", "poisson1d/poisson1d_ssbroyden.yaml", 1, 3, "—", "≤ 1e-7", "≤ 1e-10 in ≤ 5 min",
            new Dictionary<string, string[]> { ["engd"] = ["training.batch.pde=2000"] }, Linear: true),
        new("Heat 1-D", "heat1d/heat1d_ssbroyden.yaml", 1, 3, "—", "≤ 1e-7", "≤ 1e-10 in ≤ 5 min", Linear: true),
        new("Poisson 2-D", "poisson2d/poisson2d_ssbroyden.yaml", 2, 6, "—", "—", "—", Linear: true),
        new("Helmholtz (1, 4), PINN", "helmholtz2d/helmholtz2d_ssbroyden.yaml", 4, 15,
            "PIG 4.13e-5; PINN 4.02e-1 (PIG paper)", "≤ 1e-4", "≤ 2e-5", Linear: true),
        new("Klein–Gordon (2+1)-D, PINN", "klein_gordon/klein_gordon_ssbroyden.yaml", 3, 10,
            "PIG 2.76e-3; PINN 3.43e-2 (PIG paper)", "—", "—"),
        // PIG (per-sample Jacobian by parameter views): TR's SVD + 24 probes per step and ENGD are too slow at N ≈ 2600–3100, P ≈ 2100–2900.
        new("Helmholtz (1, 4), PIG", "helmholtz2d/helmholtz2d_pig_ssbroyden.yaml", 5, 15,
            "PIG 4.13e-5 (4 × 800 Gaussians, L-BFGS, PIG paper)", "—", "≤ 2e-5", Only: ["lbfgs", "ssbroyden", "lm"], Linear: true),
        new("Klein–Gordon (2+1)-D, PIG", "klein_gordon/klein_gordon_pig_ssbroyden.yaml", 5, 15,
            "PIG 2.76e-3 (4 × 100 Gaussians, Adam 50k, PIG paper)", "—", "≤ 1e-3", Only: ["lbfgs", "ssbroyden", "lm"]),
    ];

    /// <summary>Phase steps large enough that the wall time, not the count, ends each run.</summary>
    const int Unbounded = 10_000_000;

    public static readonly IReadOnlyList<Method> Methods =
    [
        new("Adam + L-BFGS", "lbfgs", _ => Phase("lbfgs", new YamlMappingNode { { "steps", Str(Unbounded) }, { "line_search", "strong_wolfe" } })),
        new("Adam → BFGS", "bfgs", last => Phase("bfgs", Unbound(last))),
        new("Adam → SSBroyden", "ssbroyden", last => Phase("ssbroyden", Unbound(last))),
        new("Adam → LM", "lm", last => Phase("lm", Residual(last)), GaussNewton: true),
        new("Adam → TR", "tr", last => Phase("tr", Residual(last)), GaussNewton: true),
        new("Adam → ENGD", "engd", last => Phase("engd", NaturalGradient(Residual(last))), GaussNewton: true, LinearOnly: true),
    ];

    /// <summary>ENGD with a ladder of SVD cut-offs (one SVD, the best (cut-off, η) pair): a single cut-off stalls (measured, poisson1d_engd.yaml).</summary>
    static YamlMappingNode NaturalGradient(YamlMappingNode body)
    {
        body.Add("rcond", new YamlSequenceNode(new[] { "1e-4", "1e-6", "1e-8", "1e-10", "1e-12" }.Select(v => new YamlScalarNode(v))) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow });
        body.Add("grid_points", "20");
        return body;
    }

    /// <summary>
    /// Iterations per RAD cycle of the Gauss–Newton methods: one of their iterations does the work of hundreds of quasi-Newton
    /// ones (it nearly solves the linearised problem on the batch), so their cycles are ten times shorter than the record configs' 500.
    /// </summary>
    public const int GaussNewtonCycle = 50;

    /// <summary>A Gauss–Newton phase's options from the record config's last phase: no step bound, its RAD settings kept.</summary>
    static YamlMappingNode Residual(YamlMappingNode last)
    {
        var body = new YamlMappingNode { { "steps", Str(Unbounded) } };
        if (last.Children.TryGetValue(new YamlScalarNode("resample"), out var rs) && rs is YamlMappingNode r)
        {
            var cycle = new YamlMappingNode();
            foreach (var (k, v) in r.Children) cycle.Add(k, v);
            cycle.Children[new YamlScalarNode("every")] = new YamlScalarNode(Str(GaussNewtonCycle));
            body.Add("resample", cycle);
        }
        return body;
    }

    /// <summary>Runs side by side (each on one libtorch thread): 2 on our 2-core machines.</summary>
    public const int Jobs = 2;

    /// <summary>Starts <c>pinn run &lt;config&gt;</c> with its output to a log file; returns the exit code.</summary>
    public delegate Task<int> RunLauncher(string config, string log, CancellationToken cancel);

    /// <summary>One planned run: its resolved config (written and validated), where its results and output will be.</summary>
    public sealed record Job(Case Case, Method Method, string Name, string ConfigPath, string RunDir, string LogPath, double Minutes);

    sealed record Outcome(Job Job, int ExitCode, string Status, double Error, double Seconds, long Parameters,
                          string Steps, double EvalsPerLineSearch, string Stop);

    /// <summary>
    /// Plans and runs the jobs, then writes results/optim.md: this run's rows replace the rows of the same case and method,
    /// and the rows of cases or methods it did not run are kept from the table already there (each row says when it was
    /// measured), so `--only` / `--methods` update part of the table.
    /// </summary>
    public static string Run(string budget, string outDir, IProblemCatalog catalog, TextWriter progress, string problemsDir,
                             RunLauncher launch, string? only = null, CancellationToken cancel = default, IReadOnlyList<string>? methods = null)
    {
        var clock = Stopwatch.StartNew();
        var loadBefore = LoadAverage();
        var jobs = Plan(budget, outDir, catalog, problemsDir, only, methods);
        double total = jobs.Sum(j => j.Minutes);
        progress.WriteLine($"{jobs.Count} runs, {total:F0} run-minutes, {Jobs} at a time on one thread each: about {total / Jobs:F0} min");

        var outcomes = RunAll(jobs, launch, progress, clock, cancel);
        var cases = jobs.Select(j => j.Case).Distinct().ToList();
        var table = Path.Combine(outDir, "optim.md");
        var previous = File.Exists(table) ? File.ReadAllLines(table) : [];
        var run = $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, budget {budget}: {jobs.Count} runs ({string.Join(", ", cases.Select(c => c.Benchmark))}; " +
                  $"{string.Join(", ", jobs.Select(j => j.Method.Label).Distinct())}) in {clock.Elapsed.TotalMinutes:F1} min, " +
                  $"load average {loadBefore} before, {LoadAverage()} after";
        var path = Reproduction.Write(outDir, "optim.md", Markdown(Rows(outcomes, budget).Concat(PreviousRows(previous)), run, PreviousRuns(previous)));
        var plot = Path.Combine(outDir, "optim", "optim.png"); // beside the runs' configs and logs: run output, not committed
        RunPlots.ErrorVsTime(plot, cases.Select(c => (c.Benchmark, (IReadOnlyList<(string, string)>)outcomes
            .Where(o => o.Job.Case == c).Select(o => (o.Job.Method.Label, Path.Combine(o.Job.RunDir, "log.csv"))).ToList())).ToList());
        progress.WriteLine($"wrote {plot}");
        return path;
    }

    /// <summary>
    /// Writes every run's config under <c>&lt;outDir&gt;/optim/</c> and loads it back, before the first run starts:
    /// a bad one fails in seconds, not an hour in. <paramref name="only"/> keeps the cases whose name or config contains it.
    /// </summary>
    /// <param name="methods">Method slugs to run (null: every method of <see cref="Methods"/>).</param>
    public static IReadOnlyList<Job> Plan(string budget, string outDir, IProblemCatalog catalog, string problemsDir, string? only = null,
                                          IReadOnlyList<string>? methods = null)
    {
        if (methods?.FirstOrDefault(m => Methods.All(x => x.Slug != m)) is { } unknown)
            throw new PinnException($"--methods: unknown method '{unknown}' (methods: {string.Join(", ", Methods.Select(m => m.Slug))})");
        if (budget is not ("quick" or "full")) throw new PinnException($"--budget: unknown budget '{budget}' (use quick or full)");
        bool quick = budget == "quick";
        var cases = Cases.Where(c => only is null || Reproduction.Slug(c.Benchmark).Contains(only, StringComparison.Ordinal)
                                                  || c.Config.Contains(only, StringComparison.Ordinal)).ToList();
        if (cases.Count == 0) throw new PinnException($"--only: no case matches '{only}' (cases: {string.Join(", ", Cases.Select(c => c.Config))})");
        var configDir = Path.Combine(outDir, "optim");
        Directory.CreateDirectory(configDir);
        var jobs = new List<Job>();
        foreach (var c in cases)
            foreach (var m in Methods.Where(m => c.Runs(m) && (methods is null || methods.Contains(m.Slug))))
            {
                double minutes = quick ? c.QuickMinutes : c.FullMinutes;
                var name = $"optim-{budget}-{Path.GetFileNameWithoutExtension(c.Config)}-{m.Slug}"; // two cases of one problem (Burgers ν) must not share a run folder
                var doc = YamlDoc.Load(Path.Combine(problemsDir, c.Config));
                ReplaceLastPhase(doc, m, c.Config);
                foreach (var o in new[] { $"output.dir={Path.GetFullPath(outDir)}", $"output.name={name}", "training.threads=1",
                                          "training.checkpoint_every=0", $"training.time_limit={minutes * 60:R}" }.Concat(c.TuningOf(m)))
                    doc.Set(o);
                var stem = Path.Combine(Path.GetFullPath(configDir), $"{Path.GetFileNameWithoutExtension(c.Config)}-{m.Slug}");
                using (var w = new StreamWriter(stem + ".yaml")) doc.Save(w, $"written by pinn reproduce optim --budget {budget} from problems/{c.Config}");
                var cfg = RunConfigLoader.Load(stem + ".yaml", catalog);
                jobs.Add(new Job(c, m, name, stem + ".yaml", Path.Combine(cfg.Output.Dir, cfg.Problem.Name, name), stem + ".log", minutes));
            }
        return jobs;
    }

    static List<Outcome> RunAll(IReadOnlyList<Job> jobs, RunLauncher launch, TextWriter progress, Stopwatch clock, CancellationToken cancel)
    {
        var outcomes = new Outcome[jobs.Count];
        var gate = new object();
        int next = 0;
        void Worker()
        {
            while (true)
            {
                int i;
                lock (gate) i = next++;
                if (i >= jobs.Count || cancel.IsCancellationRequested) return;
                var j = jobs[i];
                lock (gate) progress.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {j.Case.Benchmark}: {j.Method.Label}, {j.Minutes:G3} min…");
                Outcome o;
                try
                {
                    if (Directory.Exists(j.RunDir)) Directory.Delete(j.RunDir, recursive: true); // a rerun replaces the last one
                    o = Read(j, launch(j.ConfigPath, j.LogPath, cancel).GetAwaiter().GetResult());
                }
                catch (Exception e) when (e is PinnException or IOException or UnauthorizedAccessException)
                {
                    o = new Outcome(j, -1, "failed", double.NaN, double.NaN, 0, "—", double.NaN, e.Message); // the row says why; the table is still written
                }
                outcomes[i] = o;
                lock (gate) progress.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {j.Case.Benchmark}: {j.Method.Label}: relative L2 {Reproduction.Sci(o.Error)} " +
                                               $"after {o.Steps} in {o.Seconds:F0} s ({o.Status}{(o.Stop.Length > 0 && o.Stop != o.Status ? ", " + o.Stop : "")})");
            }
        }
        var threads = Enumerable.Range(0, Math.Min(Jobs, jobs.Count)).Select(_ => new Thread(Worker)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return outcomes.Where(o => o is not null).ToList();
    }

    /// <summary>The run's metrics.json (or, when it has none, its exit code and the last line of its log).</summary>
    static Outcome Read(Job j, int rc)
    {
        var metrics = Path.Combine(j.RunDir, "metrics.json");
        if (!File.Exists(metrics))
        {
            var last = File.Exists(j.LogPath) ? File.ReadLines(j.LogPath).LastOrDefault(l => l.Trim().Length > 0) ?? "" : "";
            return new Outcome(j, rc, $"exit {rc}", double.NaN, double.NaN, 0, "—", double.NaN, last.Trim());
        }
        try { return ReadMetrics(j, rc, metrics); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new Outcome(j, rc, $"exit {rc}", double.NaN, double.NaN, 0, "—", double.NaN, $"unreadable {metrics}: {e.Message}");
        }
    }

    static Outcome ReadMetrics(Job j, int rc, string metrics)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(metrics));
        var m = doc.RootElement;
        double Num(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
        var steps = new List<string>();
        double evalsPerSearch = double.NaN;
        string stop = "";
        if (m.TryGetProperty("phases", out var phases) && phases.ValueKind == JsonValueKind.Array)
            foreach (var p in phases.EnumerateArray())
            {
                steps.Add($"{p.GetProperty("steps").GetInt32()} {p.GetProperty("optimizer").GetString()}");
                if (p.GetProperty("optimizer").GetString() != "adam")
                {
                    evalsPerSearch = Num(p, "evaluations_per_line_search");
                    stop = p.TryGetProperty("stop", out var s) ? s.GetString() ?? "" : "";
                }
            }
        return new Outcome(j, rc, m.GetProperty("status").GetString() ?? "?", Num(m, "relative_l2"), Num(m, "wall_seconds"),
                           m.GetProperty("parameter_count").GetInt64(), string.Join(" + ", steps), evalsPerSearch, stop);
    }

    /// <summary>The 1/5/15-minute load averages (Linux), or "unknown": a busy machine shows in every timed row.</summary>
    static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }

    /// <summary>One table row: its case and method (the key a later run replaces it by), its error (for the bold best) and its cells.</summary>
    sealed record Row(string Benchmark, string Method, double Error, string[] Cells);

    const string Header = "| problem | method | rel. L2 (final) | steps | minutes | parameters | evals/LS | stop | target | published | measured |";

    static IEnumerable<Row> Rows(IReadOnlyList<Outcome> outcomes, string budget) => outcomes.Select(o =>
    {
        var c = o.Job.Case;
        var status = o.Status == "completed" ? o.Stop : $"{o.Status}{(o.Stop.Length > 0 && o.Stop != o.Status ? ": " + o.Stop : "")}";
        bool gn = o.Job.Method.GaussNewton, record = o.Job.Method.Slug == "ssbroyden";
        return new Row(c.Benchmark, o.Job.Method.Label, o.Error,
        [
            c.Benchmark, o.Job.Method.Label, Reproduction.Sci(o.Error), o.Steps, (o.Seconds / 60).ToString("F1", CultureInfo.InvariantCulture),
            o.Parameters.ToString(CultureInfo.InvariantCulture),
            double.IsFinite(o.EvalsPerLineSearch) ? o.EvalsPerLineSearch.ToString("F2", CultureInfo.InvariantCulture) : "—",
            status.Replace("|", "/"), record ? c.Target : gn ? c.GaussNewtonTarget : "", record || gn ? c.Published : "",
            $"{DateTime.UtcNow:yyyy-MM-dd} {budget}",
        ]);
    });

    /// <summary>The rows of an earlier results/optim.md (a table without the <i>measured</i> column gets its header's date and budget).</summary>
    static IEnumerable<Row> PreviousRows(string[] lines)
    {
        var written = lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^Budget \*\*(\w+)\*\*, written by .* on (\d{4}-\d{2}-\d{2})"))
                           .FirstOrDefault(m => m.Success);
        foreach (var line in lines.Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| problem |", StringComparison.Ordinal)))
        {
            var cells = line.Trim().Trim('|').Split(" | ").Select(c => c.Trim()).ToList();
            if (cells.Count == 10) cells.Add(written is null ? "earlier" : $"{written.Groups[2].Value} {written.Groups[1].Value}");
            if (cells.Count != 11) continue;
            cells[2] = cells[2].Trim('*');
            double error = double.TryParse(cells[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var e) ? e : double.NaN;
            yield return new Row(cells[0], cells[1], error, cells.ToArray());
        }
    }

    /// <summary>The "runs" list of an earlier table (one line per `pinn reproduce optim` that wrote rows into it).</summary>
    static IEnumerable<string> PreviousRuns(string[] lines)
    {
        var runs = lines.Where(l => l.StartsWith("- ", StringComparison.Ordinal) && l.Contains("UTC, budget", StringComparison.Ordinal)).ToList();
        // the table before per-row dates: its one run is described in its header
        var first = lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^Budget \*\*(\w+)\*\*, written by .* on (\d{4}-\d{2}-\d{2}).*?(Load average [^,(]*)"))
                         .FirstOrDefault(m => m.Success);
        if (runs.Count == 0 && first is not null)
            runs.Add($"- {first.Groups[2].Value}, budget {first.Groups[1].Value}: the table's first run ({first.Groups[3].Value.Trim()}; its description is in git history)");
        return runs;
    }

    /// <summary>
    /// The table: the new rows first in <see cref="Cases"/> × <see cref="Methods"/> order, then earlier rows whose case and method
    /// this run did not measure (rows of cases or methods no longer defined are dropped); the best error of each case in bold.
    /// </summary>
    static StringBuilder Markdown(IEnumerable<Row> rows, string run, IEnumerable<string> previousRuns)
    {
        var kept = new Dictionary<(string, string), Row>();
        foreach (var r in rows) kept.TryAdd((r.Benchmark, r.Method), r); // new rows come first and win
        var md = new StringBuilder();
        md.AppendLine("# Record accuracy on a CPU: quasi-Newton and Gauss–Newton phases vs Adam + L-BFGS");
        md.AppendLine();
        md.AppendLine($"Written by `pinn reproduce optim` ({Environment.ProcessorCount} cores; {Jobs} runs at a time, one libtorch thread each; float64 on cpu). " +
                      "Rows are replaced case by case and method by method (`--only CASE`, `--methods lm,…`), so they may come from different runs: " +
                      "*measured* gives the date and budget of each, and the list under the table each run's load (2 runs ≈ load 2: more means other work " +
                      "shared the cores). Error vs wall time of the latest run: `optim/optim.png` (written with the runs, not committed).");
        md.AppendLine();
        md.AppendLine("Each case is one record config (`problems/…/*_ssbroyden.yaml`: a small float64 tanh network, an Adam warm-up, " +
                      "then a dense quasi-Newton phase with a strong-Wolfe line search, in RAD resampling cycles where the config has them). " +
                      "The methods share the network, warm-up and seed and get the same wall time; only the last phase differs: " +
                      "*L-BFGS* (history 50, strong-Wolfe line search, on the fixed batch — our L-BFGS phase does not resample), *BFGS* and *SSBroyden* " +
                      "(the same phase, with the plain BFGS or the self-scaled Broyden update, OPTIMIZERS.md §3), and the Gauss–Newton family on the " +
                      $"stacked residuals with exact Jacobians (RAD cycles of {GaussNewtonCycle} iterations where the config resamples): *LM* (Levenberg–Marquardt, " +
                      "Nielsen damping, OPTIMIZERS.md §5), *TR* (trust-region Gauss–Newton with DSGNAR's adaptive-ratio radius: an SVD of J̃ and 24 probe " +
                      "radii per step, §8) and, on the linear cases, *ENGD* (energy natural gradient, a ladder of SVD cut-offs and a grid line search, §6). A case may give a method its own batch (LM's iteration costs N·P², a quasi-Newton one P²). " +
                      "*rel. L2* is the final iterate's error on the evaluation grid, not the best seen. *steps* are per phase; " +
                      "*evals/LS* is loss evaluations per line search (for LM: per iteration, trial steps included). A run that stops before its time " +
                      "(converged, or its line search failed) says why under *stop*. *target*: issue 13's for SSBroyden, issue 14's for the Gauss–Newton rows.");
        md.AppendLine();
        md.AppendLine(Header);
        md.AppendLine(string.Concat(Enumerable.Repeat("|---", 11)) + "|");
        var order = Cases.SelectMany(c => Methods.Select(m => (c.Benchmark, m.Label))).ToList();
        foreach (var c in Cases)
        {
            var mine = order.Where(k => k.Benchmark == c.Benchmark && kept.ContainsKey(k)).Select(k => kept[k]).ToList();
            var best = mine.Where(r => double.IsFinite(r.Error)).MinBy(r => r.Error);
            foreach (var r in mine)
            {
                var cells = (string[])r.Cells.Clone();
                if (r == best) cells[2] = $"**{cells[2]}**";
                md.AppendLine("| " + string.Join(" | ", cells) + " |");
            }
        }
        md.AppendLine();
        md.AppendLine("Reproduce one row: the resolved config of every run is under `results/optim/` (git-ignored), e.g. " +
                      "`./pinn run results/optim/burgers_ssbroyden-ssbroyden.yaml`; or the record config itself, `./pinn run problems/burgers/burgers_ssbroyden.yaml`.");
        md.AppendLine();
        md.AppendLine("Runs that wrote rows into this table:");
        md.AppendLine();
        foreach (var r in previousRuns.Append("- " + run).Distinct()) md.AppendLine(r);
        return md;
    }

    /// <summary>The config's <c>training.phases</c> with its last entry rewritten by <paramref name="m"/>.</summary>
    static void ReplaceLastPhase(YamlDoc doc, Method m, string config)
    {
        if (doc.Root.Children.TryGetValue(new YamlScalarNode("training"), out var t) && t is YamlMappingNode training
            && training.Children.TryGetValue(new YamlScalarNode("phases"), out var p) && p is YamlSequenceNode { Children.Count: >= 2 } phases
            && phases.Children[^1] is YamlMappingNode { Children.Count: 1 } last && last.Children.First().Value is YamlMappingNode body)
        {
            phases.Children[^1] = m.LastPhase(body);
            return;
        }
        throw new PinnException($"problems/{config}: expected training.phases with a warm-up and a last phase written as a mapping, e.g. [{{adam: {{…}}}}, {{ssbroyden: {{…}}}}]");
    }

    static YamlMappingNode Phase(string name, YamlMappingNode body) => new() { { name, body } };

    /// <summary>A copy of a phase's options with its step count lifted, so that the time limit ends it.</summary>
    static YamlMappingNode Unbound(YamlMappingNode body)
    {
        var copy = new YamlMappingNode();
        foreach (var (k, v) in body.Children) copy.Add(k, v);
        copy.Children[new YamlScalarNode("steps")] = new YamlScalarNode(Str(Unbounded));
        return copy;
    }

    static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);
}
