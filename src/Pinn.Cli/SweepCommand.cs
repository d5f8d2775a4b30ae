using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Pinn.Config;
using Pinn.Problems;
using Pinn.Sweeps;
using Pinn.Training;

namespace Pinn.Cli;

/// <summary>
/// <c>pinn sweep FILE</c>: expands a sweep file (<see cref="SweepFile"/>) into <c>sweep.json</c> and runs what is not
/// completed yet, each run in its own process — <c>--launcher local</c> K at a time on this machine, or
/// <c>--launcher slurm</c> as an sbatch array job plus a dependent report job. Idempotent: a completed run is
/// skipped, an interrupted one resumed from its checkpoint, one that failed before its checkpoint started anew.
/// Every task records its outcome in <c>tasks/&lt;index&gt;.json</c> and its output in <c>logs/&lt;index&gt;.log</c>.
/// </summary>
static class SweepCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var target = new Argument<string>("sweep") { Description = "a sweep file (.yaml), or a sweep folder / its sweep.json to run again" };
        var launcher = new Option<string>("--launcher") { Description = "local (processes on this machine) or slurm (sbatch array job)", DefaultValueFactory = _ => "local" };
        var jobs = new Option<int>("--jobs") { Description = "runs at once: local processes (default 1); slurm: at most this many array tasks at once (--array=…%K)", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "libtorch threads per run (default: local cores / jobs; slurm: --cpus)" };
        var set = new Option<string[]>("--set") { Description = "override a config value in every run: --set training.steps=100 (repeatable)" };
        var outDir = new Option<string?>("--out") { Description = "where the sweep folder goes (default: the sweep file's out:, else results/sweeps)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "print the expansion (runs, overrides, state) and write nothing" };
        var printScript = new Option<bool>("--print-script") { Description = "slurm: write and print the batch scripts, do not submit" };
        var wait = new Option<bool>("--wait") { Description = "slurm: wait until the array and report jobs have finished, then print the report" };
        var partition = new Option<string?>("--partition") { Description = "slurm: partition (sweep file slurm.partition)" };
        var time = new Option<string?>("--time") { Description = "slurm: time limit per task, e.g. 00:30:00" };
        var cpus = new Option<int?>("--cpus") { Description = "slurm: CPUs per task (also the run's libtorch threads)" };
        var gpus = new Option<int?>("--gpus") { Description = "slurm: GPUs per task (--gres=gpu:N)" };
        var mem = new Option<string?>("--mem") { Description = "slurm: memory per task, e.g. 4G" };
        var task = new Option<int?>("--task") { Description = "run only the entry with this index (what each launched process does)" };
        var budget = new Option<string?>("--budget") { Description = "which of the sweep file's budgets: (default: its first)" };
        var only = new Option<string?>("--only") { Description = "launch only the runs whose name contains one of these, comma-separated (e.g. burgers-lm,poisson1d); the report covers all" };
        var cmd = new Command("sweep", "run a sweep: configs × axes × seeds, each run its own process, locally or on Slurm")
        {
            target, launcher, jobs, threads, set, outDir, dryRun, printScript, wait, partition, time, cpus, gpus, mem, task, budget, only,
        };
        cmd.SetAction(r => PinnCommand.Guarded(stderr, () =>
        {
            var path = r.GetValue(target)!;
            if (r.GetValue(task) is { } index) return RunTask(path, index, r.GetValue(threads), stdout, stderr, catalog);

            var which = r.GetValue(launcher)!;
            if (which is not ("local" or "slurm")) throw new PinnException($"--launcher: unknown launcher '{which}' (use local or slurm)");
            SweepManifest manifest;
            SlurmResources resources;
            bool isManifest = Directory.Exists(path) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
            if (isManifest)
            {
                if (r.GetValue(set) is { Length: > 0 }) throw new PinnException("--set applies when a sweep file is expanded; give the sweep file, not its folder");
                manifest = SweepManifest.Load(path);
                resources = new SlurmResources();
            }
            else
            {
                var sweep = SweepFile.Load(path, r.GetValue(set), r.GetValue(outDir), r.GetValue(budget));
                manifest = SweepManifest.Expand(sweep, catalog);
                resources = sweep.Slurm;
            }
            resources = resources with
            {
                Partition = r.GetValue(partition) ?? resources.Partition,
                Time = r.GetValue(time) ?? resources.Time,
                Cpus = r.GetValue(cpus) ?? resources.Cpus,
                Gpus = r.GetValue(gpus) ?? resources.Gpus,
                Memory = r.GetValue(mem) ?? resources.Memory,
            };
            if (resources.Cpus < 1) throw new PinnException("--cpus: expected at least 1");
            if (r.GetValue(dryRun))
            {
                Describe(manifest, stdout);
                return PinnCommand.Ok;
            }
            var selected = Selection(manifest, r.GetValue(only));
            if (!isManifest) manifest.Save();
            Directory.CreateDirectory(Path.Combine(manifest.Directory, "logs"));
            return which == "local"
                ? Local(manifest, Math.Max(1, r.GetValue(jobs)), r.GetValue(threads), stdout, selected).Code
                : Slurm(manifest, resources, r.GetValue(printScript), r.GetValue(wait), Math.Max(0, r.GetValue(jobs) > 1 ? r.GetValue(jobs) : 0), stdout, selected);
        }));
        return cmd;
    }

    /// <summary>
    /// <c>--only a,b</c>: the runs whose name contains one of the patterns (null: every run). A pattern that matches no run
    /// is an error naming the runs, so a typo cannot pass as "nothing to do".
    /// </summary>
    static Func<SweepManifest.Entry, bool> Selection(SweepManifest m, string? only)
    {
        if (string.IsNullOrWhiteSpace(only)) return _ => true;
        var patterns = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var p in patterns)
            if (!m.Runs.Any(e => e.Run.Name.Contains(p, StringComparison.OrdinalIgnoreCase)))
                throw new PinnException($"--only: no run of sweep {m.Name} has '{p}' in its name (runs: {string.Join(", ", m.Runs.Select(e => e.Run.Name))})");
        return e => patterns.Any(p => e.Run.Name.Contains(p, StringComparison.OrdinalIgnoreCase));
    }

    enum RunState { NotStarted, Completed, Resumable, Partial }

    static RunState StateOf(string runDir)
    {
        if (!Directory.Exists(runDir)) return RunState.NotStarted;
        var metrics = Path.Combine(runDir, "metrics.json");
        if (File.Exists(metrics))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(metrics));
                if (doc.RootElement.GetProperty("status").GetString() == "completed") return RunState.Completed;
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { }
        }
        return Directory.Exists(Path.Combine(runDir, Runner.CheckpointFolder)) ? RunState.Resumable : RunState.Partial;
    }

    static void Describe(SweepManifest m, TextWriter stdout)
    {
        stdout.WriteLine($"sweep {m.Name}: {m.Runs.Count} runs in {m.Directory}");
        foreach (var e in m.Runs)
        {
            var state = e.ConfigError is not null ? "config error" : StateOf(m.PathOf(e)) switch
            {
                RunState.Completed => "completed (skipped)",
                RunState.Resumable => "resumes from its checkpoint",
                RunState.Partial => "starts again (no checkpoint)",
                _ => "to run",
            };
            stdout.WriteLine($"  [{e.Run.Index}] {e.Run.Name}: {state}");
            stdout.WriteLine($"      {Path.GetRelativePath(Environment.CurrentDirectory, e.Run.Config)} {string.Join(" ", e.Run.Overrides.Select(o => "--set " + SlurmScripts.Quote(o)))}");
            if (e.ConfigError is not null) stdout.WriteLine($"      error: {e.ConfigError}");
        }
    }

    /// <summary>One entry of the manifest, in this process: what every launched task runs.</summary>
    static int RunTask(string manifestPath, int index, int threads, TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var m = SweepManifest.Load(manifestPath);
        if (index < 0 || index >= m.Runs.Count) throw new PinnException($"--task {index}: the sweep has runs 0 … {m.Runs.Count - 1}");
        var e = m.Runs[index];
        var clock = Stopwatch.StartNew();
        int code;
        string status;
        string? error = null, runDir = null;
        var extra = threads > 0 ? new[] { $"training.threads={threads}" } : [];
        using var signals = new StopSignals();
        try
        {
            var dir = m.PathOf(e);
            var state = StateOf(dir);
            if (state == RunState.Completed)
            {
                stdout.WriteLine($"{e.Run.Name}: already completed ({dir})");
                (code, status, runDir) = (PinnCommand.Ok, "completed", dir);
            }
            else
            {
                RunOutcome outcome;
                if (state == RunState.Resumable)
                {
                    stdout.WriteLine($"{e.Run.Name}: resuming from {Path.Combine(dir, Runner.CheckpointFolder)}");
                    outcome = Runner.Resume(dir, catalog, extra, new PlainProgress(stdout), signals.Token);
                }
                else
                {
                    var cfg = RunConfigLoader.Load(e.Run.Config, catalog, [.. SweepManifest.RunOverrides(e.Run, m.Directory), .. extra]);
                    if (cfg.Problem.Eigen is not null) throw new PinnException($"{e.Run.Config}: eigenvalue sequences do not run in sweeps yet; run them with 'pinn run'");
                    if (state == RunState.Partial) Directory.Delete(dir, recursive: true); // no checkpoint to continue from
                    outcome = Runner.Run(cfg, new PlainProgress(stdout), signals.Token);
                }
                code = PinnCommand.Summarize(outcome, stdout, stderr, signals.InterruptedExitCode);
                (status, runDir) = (outcome.Result.Status, outcome.Directory);
                if (code != PinnCommand.Ok) error = outcome.Result.Status;
            }
        }
        catch (PinnException x)
        {
            stderr.WriteLine($"error: {x.Message}");
            (code, status, error) = (PinnCommand.BadInput, "failed", x.Message);
        }
        catch (Exception x) when (x is not OutOfMemoryException)
        {
            stderr.WriteLine($"internal error: {x.GetType().Name}: {x.Message.Split('\n')[0]}");
            (code, status, error) = (PinnCommand.Internal, "failed", $"internal error: {x.GetType().Name}: {x.Message.Split('\n')[0]}");
        }
        new TaskRecord(index, e.Run.Name, code, status, error, clock.Elapsed.TotalSeconds, Environment.MachineName,
                       DateTimeOffset.UtcNow, runDir).Save(m.Directory);
        return code;
    }

    /// <summary>
    /// <c>pinn reproduce NAME</c>: the sweep file <c>problems/reproduce/NAME.yaml</c> run by the local launcher (its folder
    /// under <c>OUT/sweeps</c>), then its report with the paper's numbers written as <c>OUT/NAME.md</c>.
    /// </summary>
    /// <param name="appendix">What the reproduction adds below the sweep report (e.g. a cost table), from the finished sweep.</param>
    public static (string Path, int ExitCode) Reproduce(string name, string budget, string outDir, int jobs, int threads, IProblemCatalog catalog, TextWriter stdout,
                                   Func<SweepReport.Result, string>? appendix = null, string? only = null)
    {
        var file = Path.Combine(ProblemCatalog.ConfigRoot(), "reproduce", name + ".yaml");
        if (!File.Exists(file)) throw new PinnException($"no reproduction sweep file {file}");
        var clock = Stopwatch.StartNew();
        var manifest = SweepManifest.Expand(SweepFile.Load(file, null, Path.Combine(outDir, "sweeps"), budget), catalog);
        var selected = Selection(manifest, only);
        manifest.Save();
        Directory.CreateDirectory(Path.Combine(manifest.Directory, "logs"));
        var (code, report) = Local(manifest, jobs, threads, stdout, selected);
        var md = SweepReport.Markdown(report);
        int cut = md.IndexOf('\n') + 1;
        // Completed runs are kept and skipped, so this invocation's clock may cover a few of the table's runs: say both.
        double runMinutes = report.Runs.Sum(r => r.Metrics.GetValueOrDefault("seconds")) / 60;
        var stamp = $"\nWritten by `pinn reproduce {name} --budget {manifest.Budget}` on {DateTime.UtcNow:yyyy-MM-dd} ({Environment.ProcessorCount} cores, " +
                    $"{jobs} run(s) at a time × {(threads > 0 ? threads : Math.Max(1, Environment.ProcessorCount / jobs))} thread(s); " +
                    $"{clock.Elapsed.TotalMinutes:F1} min for the runs this invocation started, {runMinutes:F0} run-minutes in the table); " +
                    $"the runs are in `{Path.GetRelativePath(Environment.CurrentDirectory, manifest.Directory)}`.\n";
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, $"{name}.md");
        File.WriteAllText(path, md[..cut] + stamp + md[cut..] + (appendix?.Invoke(report) ?? ""));
        return (path, code == PinnCommand.Diverged ? PinnCommand.Ok : code); // failed runs are rows of the table; an interruption is the exit code
    }

    /// <summary>Runs the selected, not yet completed runs as child processes and prints the report: the exit code and the report it printed.</summary>
    static (int Code, SweepReport.Result Report) Local(SweepManifest m, int jobs, int threads, TextWriter stdout, Func<SweepManifest.Entry, bool> selected)
    {
        if (threads <= 0) threads = Math.Max(1, Environment.ProcessorCount / jobs);
        var todo = m.Runs.Where(e => selected(e) && StateOf(m.PathOf(e)) != RunState.Completed).ToList();
        int chosen = m.Runs.Count(selected);
        stdout.WriteLine($"sweep {m.Name}: {m.Runs.Count} runs{(chosen < m.Runs.Count ? $" ({chosen} selected by --only)" : "")}, {chosen - todo.Count} already completed; " +
                         $"running {todo.Count}, {jobs} at a time × {threads} threads; logs in {Path.Combine(m.Directory, "logs")}");
        using var signals = new StopSignals(); // Ctrl-C / SIGTERM: every child stops at its next step with a checkpoint
        using var gate = new SemaphoreSlim(jobs);
        var print = new object();
        int finished = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        var env = new Dictionary<string, string> { ["OMP_NUM_THREADS"] = $"{threads}", ["MKL_NUM_THREADS"] = $"{threads}" };
        var manifestPath = Path.Combine(m.Directory, SweepManifest.FileName);
        async Task One(SweepManifest.Entry e)
        {
            await gate.WaitAsync();
            try
            {
                if (signals.Token.IsCancellationRequested) return;
                var started = DateTimeOffset.UtcNow;
                var task = Stopwatch.StartNew();
                int code = await ChildRuns.Launch(["sweep", manifestPath, "--task", $"{e.Run.Index}", "--threads", $"{threads}"],
                                                  SweepReport.LogPath(m.Directory, e.Run), signals.Token, env);
                var record = TaskRecord.Load(m.Directory, e.Run.Index);
                if (record is null || record.Finished < started) // the task died before it could say how (a native abort, a kill)
                {
                    record = new TaskRecord(e.Run.Index, e.Run.Name, code, "failed", $"the process ended with exit code {code} and left no record (see logs/{e.Run.Index}.log)",
                                            task.Elapsed.TotalSeconds, Environment.MachineName, DateTimeOffset.UtcNow, null);
                    record.Save(m.Directory);
                }
                lock (print)
                {
                    finished++;
                    if (code != 0) failed++;
                    var what = code == 0 ? Outcome(m, e) : $"{record.Status} (exit {code}): {record.Error}";
                    stdout.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {finished}/{todo.Count} {e.Run.Name}: {what} ({task.Elapsed.TotalSeconds:F0} s)");
                }
            }
            finally { gate.Release(); }
        }
        Task.WaitAll(todo.Select(One).ToArray());
        var report = SweepReport.Collect(m.Directory);
        stdout.Write(SweepReport.Write(report));
        stdout.WriteLine($"report: {Path.Combine(m.Directory, "report.md")} ({clock.Elapsed.TotalSeconds:F0} s for {todo.Count} runs)");
        if (signals.Received is not null) return (signals.InterruptedExitCode, report);
        return (report.Runs.All(x => x.Status == "completed") ? PinnCommand.Ok : PinnCommand.Diverged, report);
    }

    static string Outcome(SweepManifest m, SweepManifest.Entry e)
    {
        var row = SweepReport.Row(m, e); // this run only: the whole report is collected once, at the end
        return row.Metrics.TryGetValue("rel_l2", out var l2) ? $"{row.Status}, rel. L2 {l2.ToString("0.000e+00", CultureInfo.InvariantCulture)}" : row.Status;
    }

    static int Slurm(SweepManifest m, SlurmResources res, bool printOnly, bool wait, int parallel, TextWriter stdout, Func<SweepManifest.Entry, bool> selected)
    {
        var todo = m.Runs.Where(e => selected(e) && StateOf(m.PathOf(e)) != RunState.Completed).Select(e => e.Run.Index).ToList();
        var (self, prefix) = ChildRuns.Self();
        var pinn = string.Join(" ", prefix.Prepend(self).Select(SlurmScripts.Quote));
        var dir = Path.Combine(m.Directory, "slurm");
        Directory.CreateDirectory(dir);
        var reportScript = Path.Combine(dir, "report.sh");
        File.WriteAllText(reportScript, SlurmScripts.Report(m, res, pinn));
        string? arrayScript = null;
        if (todo.Count > 0)
        {
            arrayScript = Path.Combine(dir, "array.sh");
            File.WriteAllText(arrayScript, SlurmScripts.Array(m, res, pinn, todo, parallel));
        }
        if (printOnly)
        {
            if (arrayScript is not null) stdout.Write($"# {arrayScript}\n{File.ReadAllText(arrayScript)}\n");
            stdout.Write($"# {reportScript} (sbatch --dependency=afterany:<array job>)\n{File.ReadAllText(reportScript)}");
            return PinnCommand.Ok;
        }
        if (todo.Count == 0)
        {
            stdout.WriteLine($"sweep {m.Name}: all {m.Runs.Count} runs completed; nothing to submit");
            stdout.Write(SweepReport.Write(SweepReport.Collect(m.Directory)));
            return PinnCommand.Ok;
        }
        var arrayId = Sbatch([arrayScript!]);
        var reportId = Sbatch([$"--dependency=afterany:{arrayId}", reportScript]);
        File.WriteAllText(Path.Combine(dir, "jobs.json"), JsonSerializer.Serialize(new { array = arrayId, report = reportId, tasks = todo }));
        stdout.WriteLine($"sweep {m.Name}: submitted array job {arrayId} ({todo.Count} tasks: {SlurmScripts.Ranges(todo)}) and report job {reportId}");
        stdout.WriteLine($"  watch: squeue -j {arrayId},{reportId}; logs: {Path.Combine(m.Directory, "logs")}; report: {Path.Combine(m.Directory, "report.md")}");
        if (!wait) return PinnCommand.Ok;
        var clock = Stopwatch.StartNew();
        while (Pending([arrayId, reportId])) Thread.Sleep(1000);
        var report = SweepReport.Collect(m.Directory);
        stdout.Write(SweepReport.Markdown(report));
        stdout.WriteLine($"slurm jobs finished after {clock.Elapsed.TotalSeconds:F0} s");
        return report.Runs.All(x => x.Status == "completed") ? PinnCommand.Ok : PinnCommand.Diverged;
    }

    static string Sbatch(IReadOnlyList<string> args)
    {
        var (code, output, error) = Exec("sbatch", ["--parsable", .. args]);
        if (code != 0) throw new PinnException($"sbatch {string.Join(" ", args)} failed (exit {code}): {error.Trim()}{output.Trim()}");
        var id = output.Trim().Split(';')[0];
        if (id.Length == 0 || !id.All(char.IsDigit)) throw new PinnException($"sbatch printed no job id: '{output.Trim()}'");
        return id;
    }

    /// <summary>Whether any of the jobs is still known to squeue as pending, running or completing.</summary>
    static bool Pending(IReadOnlyList<string> ids)
    {
        var (code, output, _) = Exec("squeue", ["-h", "-j", string.Join(",", ids), "-o", "%i %T"]);
        return code == 0 && output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                                  .Any(l => l.Contains("PENDING") || l.Contains("RUNNING") || l.Contains("COMPLETING") || l.Contains("CONFIGURING"));
    }

    static (int Code, string Output, string Error) Exec(string file, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(start)!;
            var output = p.StandardOutput.ReadToEndAsync();
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output.Result, error);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new PinnException($"{file} not found on PATH: --launcher slurm needs the Slurm client (scripts/slurm/ sets up a one-node cluster; " +
                                    "--print-script shows the batch scripts without submitting)");
        }
    }
}
