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
    /// <param name="Target">Issue 13's target for the case (final iterate).</param>
    public sealed record Case(string Benchmark, string Config, double QuickMinutes, double FullMinutes, string Published, string Target);

    /// <summary>One optimiser in the comparison: its label and how it rewrites the config's last phase.</summary>
    public sealed record Method(string Label, string Slug, Func<YamlMappingNode, YamlMappingNode> LastPhase);

    public static readonly IReadOnlyList<Case> Cases =
    [
        new("Burgers, ν = 0.01/π", "burgers/burgers_ssbroyden.yaml", 4, 15,
            "8.3e-9 (SSBroyden + RAD, 10⁵ its, GPU)", "≤ 1e-5 in ≤ 15 min"),
        new("Allen–Cahn, u_t = 1e-4 u_xx − 5u³ + 5u", "allen_cahn/allen_cahn_ssbroyden.yaml", 8, 30,
            "1.9e-6 (SSBroyden + RAD); causal PINN 1.39e-4", "≤ 1e-4 in ≤ 30 min"),
        new("Poisson 1-D", "poisson1d/poisson1d_ssbroyden.yaml", 1, 3, "—", "≤ 1e-7"),
        new("Heat 1-D", "heat1d/heat1d_ssbroyden.yaml", 1, 3, "—", "≤ 1e-7"),
        new("Poisson 2-D", "poisson2d/poisson2d_ssbroyden.yaml", 2, 6, "—", "—"),
        new("Helmholtz (1, 4), PINN", "helmholtz2d/helmholtz2d_ssbroyden.yaml", 4, 15,
            "PIG 4.13e-5; PINN 4.02e-1 (PIG paper)", "≤ 1e-4"),
        new("Klein–Gordon (2+1)-D, PINN", "klein_gordon/klein_gordon_ssbroyden.yaml", 3, 10,
            "PIG 2.76e-3; PINN 3.43e-2 (PIG paper)", "—"),
    ];

    /// <summary>Phase steps large enough that the wall time, not the count, ends each run.</summary>
    const int Unbounded = 10_000_000;

    public static readonly IReadOnlyList<Method> Methods =
    [
        new("Adam + L-BFGS", "lbfgs", _ => Phase("lbfgs", new YamlMappingNode { { "steps", Str(Unbounded) }, { "line_search", "strong_wolfe" } })),
        new("Adam → BFGS", "bfgs", last => Phase("bfgs", Unbound(last))),
        new("Adam → SSBroyden", "ssbroyden", last => Phase("ssbroyden", Unbound(last))),
    ];

    /// <summary>Runs side by side (each on one libtorch thread): 2 on our 2-core machines.</summary>
    public const int Jobs = 2;

    /// <summary>Starts <c>pinn run &lt;config&gt;</c> with its output to a log file; returns the exit code.</summary>
    public delegate Task<int> RunLauncher(string config, string log, CancellationToken cancel);

    /// <summary>One planned run: its resolved config (written and validated), where its results and output will be.</summary>
    public sealed record Job(Case Case, Method Method, string Name, string ConfigPath, string RunDir, string LogPath, double Minutes);

    sealed record Outcome(Job Job, int ExitCode, string Status, double Error, double Seconds, long Parameters,
                          string Steps, double EvalsPerLineSearch, string Stop);

    public static string Run(string budget, string outDir, IProblemCatalog catalog, TextWriter progress, string problemsDir,
                             RunLauncher launch, string? only = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var loadBefore = LoadAverage();
        var jobs = Plan(budget, outDir, catalog, problemsDir, only);
        double total = jobs.Sum(j => j.Minutes);
        progress.WriteLine($"{jobs.Count} runs, {total:F0} run-minutes, {Jobs} at a time on one thread each: about {total / Jobs:F0} min");

        var outcomes = RunAll(jobs, launch, progress, clock, cancel);
        var cases = jobs.Select(j => j.Case).Distinct().ToList();
        var path = Reproduction.Write(outDir, "optim.md", Markdown(budget, outcomes, clock.Elapsed, cases, $"{loadBefore} before, {LoadAverage()} after"));
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
    public static IReadOnlyList<Job> Plan(string budget, string outDir, IProblemCatalog catalog, string problemsDir, string? only = null)
    {
        if (budget is not ("quick" or "full")) throw new PinnException($"--budget: unknown budget '{budget}' (use quick or full)");
        bool quick = budget == "quick";
        var cases = Cases.Where(c => only is null || Reproduction.Slug(c.Benchmark).Contains(only, StringComparison.Ordinal)
                                                  || c.Config.Contains(only, StringComparison.Ordinal)).ToList();
        if (cases.Count == 0) throw new PinnException($"--only: no case matches '{only}' (cases: {string.Join(", ", Cases.Select(c => c.Config))})");
        var configDir = Path.Combine(outDir, "optim");
        Directory.CreateDirectory(configDir);
        var jobs = new List<Job>();
        foreach (var c in cases)
            foreach (var m in Methods)
            {
                double minutes = quick ? c.QuickMinutes : c.FullMinutes;
                var name = $"optim-{budget}-{m.Slug}";
                var doc = YamlDoc.Load(Path.Combine(problemsDir, c.Config));
                ReplaceLastPhase(doc, m, c.Config);
                foreach (var o in new[] { $"output.dir={Path.GetFullPath(outDir)}", $"output.name={name}", "training.threads=1",
                                          "training.checkpoint_every=0", $"training.time_limit={minutes * 60:R}" })
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

    static StringBuilder Markdown(string budget, IReadOnlyList<Outcome> outcomes, TimeSpan elapsed, IReadOnlyList<Case> cases, string load)
    {
        var md = new StringBuilder();
        md.AppendLine("# Record accuracy on a CPU: quasi-Newton phases vs Adam + L-BFGS");
        md.AppendLine();
        md.AppendLine($"Budget **{budget}**, written by `pinn reproduce optim --budget {budget}` on {DateTime.UtcNow:yyyy-MM-dd} " +
                      $"({Environment.ProcessorCount} cores; {Jobs} runs at a time, one libtorch thread each; float64 on cpu; {elapsed.TotalMinutes:F1} min in all). " +
                      $"Error vs wall time: `optim/optim.png` (written with the runs, not committed). Load average {load} ({Jobs} runs ≈ load {Jobs}: more means other work shared the cores).");
        md.AppendLine();
        md.AppendLine("Each case is one record config (`problems/…/*_ssbroyden.yaml`: a small float64 tanh network, an Adam warm-up, " +
                      "then a dense quasi-Newton phase with a strong-Wolfe line search, in RAD resampling cycles where the config has them). " +
                      "The three methods share the network, batch, warm-up and seed and get the same wall time; only the last phase differs: " +
                      "*L-BFGS* (history 50, strong-Wolfe line search, on the fixed batch — our L-BFGS phase does not resample), *BFGS* and *SSBroyden* " +
                      "(the same phase, with the plain BFGS or the self-scaled Broyden update, OPTIMIZERS.md §3). " +
                      "*rel. L2* is the final iterate's error on the evaluation grid, not the best seen. *steps* are per phase; " +
                      "*evals/LS* is loss evaluations per line search. A run that stops before its time (converged, or its line search " +
                      "failed) says why under *stop*.");
        md.AppendLine();
        md.AppendLine("| problem | method | rel. L2 (final) | steps | minutes | parameters | evals/LS | stop | target | published |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var c in cases)
            foreach (var o in outcomes.Where(o => o.Job.Case == c))
            {
                bool best = o == outcomes.Where(x => x.Job.Case == c && double.IsFinite(x.Error)).MinBy(x => x.Error);
                var err = Reproduction.Sci(o.Error);
                var status = o.Status == "completed" ? o.Stop : $"{o.Status}{(o.Stop.Length > 0 && o.Stop != o.Status ? ": " + o.Stop : "")}";
                md.AppendLine($"| {c.Benchmark} | {o.Job.Method.Label} | {(best ? $"**{err}**" : err)} | {o.Steps} | {o.Seconds / 60:F1} | {o.Parameters} | " +
                              $"{(double.IsFinite(o.EvalsPerLineSearch) ? o.EvalsPerLineSearch.ToString("F2", CultureInfo.InvariantCulture) : "—")} | " +
                              $"{status.Replace("|", "/")} | {(o.Job.Method.Slug == "ssbroyden" ? c.Target : "")} | {(o.Job.Method.Slug == "ssbroyden" ? c.Published : "")} |");
            }
        md.AppendLine();
        md.AppendLine("Reproduce one row: the resolved config of every run is under `results/optim/` (git-ignored), e.g. " +
                      "`./pinn run results/optim/burgers_ssbroyden-ssbroyden.yaml`; or the record config itself, `./pinn run problems/burgers/burgers_ssbroyden.yaml`.");
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
