using System.CommandLine;
using System.Globalization;
using Pinn.Config;
using Pinn.Problems;
using Pinn.References;
using Pinn.Reporting;
using Pinn.Training;

namespace Pinn.Cli;

/// <summary>
/// The <c>pinn</c> command. Exit codes: 0 success; 1 the run finished but diverged (results are
/// still written); 2 bad input (config, names, files) — one line naming the file, line and symbol;
/// 3 an internal error; 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM (e.g. a batch scheduler's time
/// limit) — both stop at the next step with a checkpoint and the results so far written (resumable).
/// </summary>
public static class PinnCommand
{
    public const int Ok = 0, Diverged = 1, BadInput = 2, Internal = 3, Interrupted = 130, Terminated = 143;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, IProblemCatalog? catalog = null)
    {
        catalog ??= ProblemCatalog.Instance;
        var root = new RootCommand("Pinn: physics-informed PDE solvers (PINN) on TorchSharp");
        root.Subcommands.Add(RunCommand(stdout, stderr, catalog));
        root.Subcommands.Add(ListCommand(stdout, catalog));
        root.Subcommands.Add(ShowCommand(stdout, stderr, catalog));
        root.Subcommands.Add(ReferenceCommand(stdout, stderr, catalog));
        root.Subcommands.Add(ReportCommand(stdout, stderr));
        root.Subcommands.Add(EvalCommand(stdout, stderr, catalog));
        root.Subcommands.Add(PredictCommand.Create(stdout, stderr, catalog));
        root.Subcommands.Add(ReproduceCommand(stdout, stderr, catalog));
        root.Subcommands.Add(SweepCommand.Create(stdout, stderr, catalog));
        var config = new InvocationConfiguration { Output = stdout, Error = stderr };
        return root.Parse(args).Invoke(config);
    }

    /// <summary>Runs a command body, turning errors into one line on stderr and an exit code.</summary>
    internal static int Guarded(TextWriter stderr, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (PinnException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (Exception e)
        {
            var inner = e is TypeInitializationException { InnerException: { } ie } ? ie : e;
            stderr.WriteLine($"internal error: {inner.GetType().Name}: {inner.Message.Split('\n')[0]}");
            if (Environment.GetEnvironmentVariable("PINN_DEBUG") == "1") stderr.WriteLine(inner);
            return Internal;
        }
    }

    static Argument<string> Target() => new("target")
    {
        Description = "a run config (.yaml) or a built-in problem name (see 'pinn list')",
    };

    static Command RunCommand(TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var target = Target();
        target.Arity = ArgumentArity.ZeroOrOne;
        var steps = new Option<int?>("--steps") { Description = "Adam steps (training.steps)" };
        var seed = new Option<int?>("--seed") { Description = "random seed (training.seed)" };
        var device = new Option<string?>("--device") { Description = "auto | cpu | cuda (training.device)" };
        var dtype = new Option<string?>("--dtype") { Description = "float32 | float64 (training.dtype)" };
        var set = new Option<string[]>("--set") { Description = "override any config value: --set training.lr=5e-4 (repeatable)" };
        var outDir = new Option<string?>("--out") { Description = "results root directory (output.dir, default results)" };
        var name = new Option<string?>("--name") { Description = "run name (output.name; default: timestamp and seed)" };
        var resume = new Option<string?>("--resume") { Description = "continue the run in this directory from its checkpoint" };
        var quiet = new Option<bool>("--quiet") { Description = "print only the final summary" };
        var dryRun = new Option<bool>("--dry-run") { Description = "print the resolved problem and config, do not train" };
        var cmd = new Command("run", "train a model on a problem and report its error against the reference")
        {
            target, steps, seed, device, dtype, set, outDir, name, resume, quiet, dryRun,
        };
        cmd.SetAction(r => Guarded(stderr, () =>
        {
            var overrides = new List<string>(r.GetValue(set) ?? []);
            void Add(string key, object? v)
            {
                if (v is not null) overrides.Add($"{key}={Convert.ToString(v, CultureInfo.InvariantCulture)}");
            }
            Add("training.steps", r.GetValue(steps));
            Add("training.seed", r.GetValue(seed));
            Add("training.device", r.GetValue(device));
            Add("training.dtype", r.GetValue(dtype));
            Add("output.dir", r.GetValue(outDir));
            Add("output.name", r.GetValue(name));
            var resumeDir = r.GetValue(resume);
            var targetValue = r.GetValue(target);
            if (resumeDir is null && targetValue is null)
                throw new PinnException("pinn run: give a config file or problem name, or --resume <run-dir>");
            if (resumeDir is not null && targetValue is not null)
                throw new PinnException("pinn run: --resume continues a run with its own run.yaml; do not also give a config");

            if (r.GetValue(dryRun))
            {
                var cfgPath = resumeDir is null ? targetValue! : Path.Combine(resumeDir, "run.yaml");
                var dry = RunConfigLoader.Load(cfgPath, catalog, overrides);
                stdout.WriteLine(dry.Problem.Describe());
                stdout.WriteLine(ConfigSummary(dry));
                return Ok;
            }

            using var signals = new StopSignals(); // SIGINT and SIGTERM: checkpoint, results, exit 130 / 143
            var loaded = resumeDir is null ? RunConfigLoader.Load(targetValue!, catalog, overrides) : null;
            if (loaded?.Problem.Eigen is not null)
            {
                (string, IReadOnlyList<EigenStateResult>) Sequence(ITrainingObserver? display) => EigenSequence.Run(loaded, display, signals.Token);
                var (dir, states) = r.GetValue(quiet) ? Sequence(null)
                    : ConsoleProgress.Interactive(stdout) ? ConsoleProgress.Run(Sequence)
                    : Sequence(new PlainProgress(stdout));
                int code = Ok;
                foreach (var s in states)
                {
                    stdout.Write($"state {s.State}: ");
                    code = Summarize(s.Run, stdout, stderr, signals.InterruptedExitCode);
                }
                stdout.WriteLine($"eigenvalues: {dir}/eigen.md");
                return code;
            }
            RunOutcome Body(ITrainingObserver? display) => resumeDir is null
                ? Runner.Run(loaded!, display, signals.Token)
                : Runner.Resume(resumeDir, catalog, overrides, display, signals.Token);
            var outcome = r.GetValue(quiet) ? Body(null)
                : ConsoleProgress.Interactive(stdout) ? ConsoleProgress.Run(Body)
                : Body(new PlainProgress(stdout));
            return Summarize(outcome, stdout, stderr, signals.InterruptedExitCode);
        }));
        return cmd;
    }

    /// <param name="interruptedCode">the exit code of an interrupted run: which signal stopped it (130 or 143).</param>
    internal static int Summarize(RunOutcome outcome, TextWriter stdout, TextWriter stderr, int interruptedCode)
    {
        var res = outcome.Result;
        var err = res.Error is null ? "no reference" : $"relative L2 {res.Error.RelativeL2:0.000e+00} ({res.Error})";
        var rec = res.Recoveries > 0 ? $", {res.Recoveries} divergence recoveries" : "";
        var steps = outcome.Config.Training.Phases is null || res.Phases is null
            ? $"{res.AdamSteps} Adam + {res.LbfgsSteps} L-BFGS steps"
            : string.Join(" + ", res.Phases.Select(p => $"{p.Steps} {p.Name}")) + " steps";
        stdout.WriteLine($"{outcome.Config.Problem.Name}: {err}; {steps} in {res.Seconds:F1} s{rec}; results in {outcome.Directory}");
        if (res.Identified is { Count: > 0 } identified) stdout.WriteLine($"  identified: {string.Join(", ", identified.Select(p => p.Describe()))}");
        switch (res.Status)
        {
            case "completed":
                return Ok;
            case "interrupted":
                stderr.WriteLine($"interrupted: checkpoint and results so far are in {outcome.Directory}; continue with: pinn run --resume {outcome.Directory}");
                return interruptedCode;
            default:
                stderr.WriteLine($"error: training {res.Status}; results so far are in {outcome.Directory}");
                return Diverged;
        }
    }

    static string ConfigSummary(RunConfig c)
    {
        var t = c.Training;
        var h = c.Model.HardConstraints;
        var hard = h.Any ? $", hard constraints: {string.Join(" + ", new[] { h.Initial ? "initial" : null, h.Dirichlet ? "dirichlet" : null }.OfType<string>())}" : "";
        return $"""
              model:      {c.Model.Type} [{string.Join(", ", c.Model.Layers)}] {c.Model.Activation}{hard}
              training:   {(t.Phases is null ? $"{t.Steps} Adam steps (lr {t.LearningRate:R}, ×{t.DecayRate:R} per {t.DecaySteps}), {t.LbfgsSteps} L-BFGS" : Runner.DescribePlan(t))}, {t.DType} on {t.Device}, seed {t.Seed}
              batch:      {string.Join(", ", t.Batch.Select(kv => $"{kv.Key} {kv.Value}"))} ({t.Sampler}, redrawn every {t.ResampleEvery} steps)
              weights:    {(t.Weights.Count == 0 ? "all 1" : string.Join(", ", t.Weights.Select(kv => $"{kv.Key} {kv.Value:R}")))}
              evaluation: {string.Join(" × ", c.Problem.Domain.CoordinateNames.Zip(c.Evaluation.CountsFor(c.Problem), (n, k) => $"{n} {k}"))}
              output:     {Path.Combine(c.Output.Dir, c.Problem.Name, c.Output.Name ?? "<timestamp>")}
            """;
    }

    static Command ReproduceCommand(TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var paper = new Argument<string>("paper") { Description = "which paper's tables to rebuild: causal, gp, pig, optim (sweep files problems/reproduce/NAME.yaml), inverse (parameter identification and quantum wells)" };
        var budget = new Option<string>("--budget") { Description = "quick (2 CPU cores: < 30 min, optim ≈ 100 min) or full (the configs' budgets; for a GPU)", DefaultValueFactory = _ => "quick" };
        var outDir = new Option<string>("--out") { Description = "results folder (default results)", DefaultValueFactory = _ => "results" };
        var threads = new Option<int>("--threads") { Description = "libtorch threads per run (default: cores / runs at a time)" };
        var only = new Option<string?>("--only") { Description = "run only the cases whose name contains one of these, comma-separated (optim: burgers-lm,poisson1d; inverse: burgers); the table covers every run in the sweep folder" };
        var jobs = new Option<int?>("--jobs") { Description = "runs at once, each its own process (default: optim 2, the others 1)" };
        var cmd = new Command("reproduce", "rerun a paper's benchmarks and write results/<paper>.md beside the published numbers") { paper, budget, outDir, threads, only, jobs };
        cmd.SetAction(r => Guarded(stderr, () =>
        {
            var which = r.GetValue(paper)!;
            if (r.GetValue(threads) is > 0 and var n) TorchSharp.torch.set_num_threads(n);
            (string, int) Sweep(int defaultJobs, Func<Sweeps.SweepReport.Result, string>? appendix = null) =>
                SweepCommand.Reproduce(which, r.GetValue(budget)!, r.GetValue(outDir)!, Math.Max(1, r.GetValue(jobs) ?? defaultJobs), r.GetValue(threads),
                                       catalog, stdout, appendix, r.GetValue(only));
            var (path, code) = which switch
            {
                "optim" => Sweep(OptimReproduction.Jobs, rep => OptimReproduction.Details(rep, stdout)),
                "causal" => Sweep(1),
                "gp" => Sweep(1, rep => GpReproduction.FiniteDifferenceTable(rep, catalog, stdout)),
                "pig" => Sweep(1, rep => PigReproduction.CostTable(rep.Manifest.Budget ?? r.GetValue(budget)!, catalog, stdout)),
                "inverse" => (InverseReproduction.Run(r.GetValue(budget)!, r.GetValue(outDir)!, catalog, stdout, ProblemCatalog.ConfigRoot(), r.GetValue(only)), Ok),
                _ => throw new PinnException($"unknown paper '{which}' (available: causal, gp, pig, optim, inverse)"),
            };
            stdout.WriteLine($"wrote {path}");
            return code;
        }));
        return cmd;
    }

    static Command ReportCommand(TextWriter stdout, TextWriter stderr)
    {
        var dir = new Argument<string>("results") { Description = "a results folder (default: results), or a sweep folder", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("report", "tabulate the runs under a results folder (summary.md), or a sweep's runs grouped over seeds (report.md, report.csv, plots)") { dir };
        cmd.SetAction(r => Guarded(stderr, () =>
        {
            var root = r.GetValue(dir) ?? "results";
            if (File.Exists(Path.Combine(root, Sweeps.SweepManifest.FileName)))
            {
                stdout.Write(Sweeps.SweepReport.Write(Sweeps.SweepReport.Collect(root)));
                stdout.WriteLine($"wrote {Path.Combine(root, "report.md")}, report.csv, groups.csv");
                return Ok;
            }
            var runs = RunReport.Collect(root);
            if (runs.Count == 0) throw new PinnException($"no runs (metrics.json) under {root}");
            var table = RunReport.Markdown(runs);
            stdout.Write(table);
            File.WriteAllText(Path.Combine(root, "summary.md"), $"# Runs under {root}\n\n{table}");
            return Ok;
        }));
        return cmd;
    }

    static Command EvalCommand(TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var dir = new Argument<string>("run") { Description = "a run directory (results/<problem>/<run>)" };
        var cmd = new Command("eval", "reload a run's checkpoint and recompute its error against the reference") { dir };
        cmd.SetAction(r => Guarded(stderr, () =>
        {
            var (cfg, error, state) = RunEvaluator.Evaluate(r.GetValue(dir)!, catalog);
            stdout.WriteLine($"{cfg.Problem.Name} (checkpoint at {state.Phase} step {state.Step}): relative L2 {error.RelativeL2:0.000e+00} ({error})");
            return Ok;
        }));
        return cmd;
    }

    static Command ListCommand(TextWriter stdout, IProblemCatalog catalog)
    {
        var cmd = new Command("list", "list the built-in problems");
        cmd.SetAction(_ =>
        {
            foreach (var (n, d) in catalog.List()) stdout.WriteLine($"{n,-12} {d}");
            return Ok;
        });
        return cmd;
    }

    static Command ShowCommand(TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var target = Target();
        var cmd = new Command("show", "print a problem: equations, domain, conditions, reference") { target };
        cmd.SetAction(r => Guarded(stderr, () =>
        {
            var cfg = RunConfigLoader.Load(r.GetValue(target)!, catalog);
            stdout.WriteLine(cfg.Problem.Describe());
            return Ok;
        }));
        return cmd;
    }

    static Command ReferenceCommand(TextWriter stdout, TextWriter stderr, IProblemCatalog catalog)
    {
        var target = Target();
        var nx = new Option<int?>("--nx") { Description = "grid points along each spatial coordinate" };
        var nt = new Option<int?>("--nt") { Description = "grid points along time" };
        var output = new Option<string>("--out") { Description = "output file: .npz (grid axes + field arrays), .npy (n×(d+m) table) or .csv", Required = true };
        var cmd = new Command("reference", "write a problem's reference solution on a grid, with the grid coordinates")
        {
            target, nx, nt, output,
        };
        cmd.SetAction(r => Guarded(stderr, () =>
        {
            var cfg = RunConfigLoader.Load(r.GetValue(target)!, catalog);
            var p = cfg.Problem;
            var reference = p.Reference ?? throw new PinnException($"problem '{p.Name}' has no reference");
            var counts = ConfigLocation.Guard(cfg.Source, () => cfg.Evaluation.CountsFor(p));
            // --nx / --nt replace the config's count on every spatial axis / the time axis; the rest stays.
            counts = p.Domain.Axes.Select((a, j) => (a.Name == p.Domain.TimeAxis ? r.GetValue(nt) : r.GetValue(nx)) ?? counts[j]).ToArray();
            var solution = ConfigLocation.Guard(cfg.Source, () => reference.Solve(p, counts));
            var path = r.GetValue(output)!;
            ReferenceFiles.Write(solution, path);
            stdout.WriteLine($"{p.Name}: {reference.Description}; {solution.Count} points ({string.Join(" × ", counts)}) written to {path}");
            return Ok;
        }));
        return cmd;
    }
}
