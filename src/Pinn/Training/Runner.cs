using Pinn.Config;
using Pinn.Models;
using Pinn.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training;

public sealed record RunOutcome(string Directory, TrainingResult Result, RunConfig Config);

/// <summary>
/// One run end to end: device and seed, reference, model, training, and the run directory.
/// Results are written even when training diverges or is interrupted; the caller reports
/// <see cref="TrainingResult.Status"/>.
/// </summary>
public static class Runner
{
    public const string CheckpointFolder = "checkpoint";

    public static RunOutcome Run(RunConfig cfg, ITrainingObserver? display = null, CancellationToken cancel = default)
    {
        using var dir = RunDirectory.Create(cfg);
        return Execute(cfg, dir, resume: null, display, cancel);
    }

    /// <summary>
    /// Continues the run in <paramref name="runDir"/> from its checkpoint, with the config it wrote
    /// (run.yaml) plus <paramref name="overrides"/> (e.g. more steps). Batches, optimiser moments and
    /// learning-rate schedule continue exactly, so the result equals an uninterrupted run's.
    /// </summary>
    public static RunOutcome Resume(string runDir, IProblemCatalog catalog, IEnumerable<string>? overrides = null,
                                    ITrainingObserver? display = null, CancellationToken cancel = default)
    {
        var yaml = Path.Combine(runDir, "run.yaml");
        if (!File.Exists(yaml)) throw new PinnException($"{runDir} is not a run directory (no run.yaml)");
        var cfg = RunConfigLoader.Load(yaml, catalog, overrides);
        var checkpoint = Checkpoint.Load(Path.Combine(runDir, CheckpointFolder));
        using var dir = RunDirectory.Open(runDir, checkpoint.State);
        return Execute(cfg, dir, checkpoint, display, cancel);
    }

    static RunOutcome Execute(RunConfig cfg, RunDirectory dir, Checkpoint? resume, ITrainingObserver? display, CancellationToken cancel)
    {
        var t = cfg.Training;
        var device = RunDevice.Resolve(t.Device);
        var dtype = RunDevice.ResolveDType(t.DType);
        if (t.Threads > 0) set_num_threads(t.Threads);
        manual_seed(t.Seed);
        string deviceName = device.type == DeviceType.CUDA ? "cuda" : "cpu";

        var problem = cfg.Problem;
        var reference = problem.Reference?.Solve(problem, cfg.Evaluation.CountsFor(problem));
        var comparison = reference is null ? null : new ReferenceComparison(reference);

        using var model = ModelFactory.Create(cfg.Model, problem, dtype, device, cfg.Training.Seed);
        dir.WriteConfig(cfg);
        dir.SetFields(problem.Fields);
        var what = resume is null ? "" : $", resuming at {resume.State.Phase} step {resume.State.Step}";
        display?.OnStart($"{problem.Name}: {model.Describe()}, {DescribePlan(t)}, {t.DType} on {deviceName} ({get_num_threads()} threads){what} → {dir.Path}");

        var log = new LogRecorder(dir, display);
        TrainingResult result;
        IFieldModel evaluated = model;
        if (t.TimeWindows > 1)
        {
            if (resume is not null) throw new PinnException("--resume is not supported for time-marching runs (training.time_windows > 1)");
            (evaluated, result) = TimeMarching.Train(problem, cfg.Model, t, dtype, device, comparison, log, cancel);
        }
        else
        {
            using var trainer = new Trainer(problem, model, t, dtype, device, comparison, log, Path.Combine(dir.Path, CheckpointFolder));
            result = trainer.Train(resume, cancel);
        }

        dir.WriteMetrics(cfg, result, deviceName, t.DType, problem.Reference?.Description);
        if (reference is not null && result.Status is "completed" or "interrupted")
        {
            var predicted = ReferenceComparison.Predict(evaluated, reference.Points, dtype, device);
            dir.WritePrediction(reference, predicted);
            dir.CloseLog();
            RunPlots.Write(dir.Path, problem.Name, reference, predicted, problem.Domain.TimeAxis, result.Error);
        }
        if (!ReferenceEquals(evaluated, model)) evaluated.Dispose();
        return new RunOutcome(dir.Path, result, cfg);
    }

    /// <summary>The phases in words: "2000 Adam + 500 L-BFGS steps" (the shorthand, as before), or "adam 2000 → ssbroyden 20000".</summary>
    public static string DescribePlan(TrainingOptions t) => t.Phases is null
        ? $"{t.Steps} Adam + {t.LbfgsSteps} L-BFGS steps"
        : string.Join(" → ", t.Plan.Select(p => p.Name + " " + p.Steps + (p is Phases.LbfgsPhaseOptions { LineSearch: Phases.LbfgsLineSearch.StrongWolfe } ? " (strong Wolfe)" : "")));

    /// <summary>Writes each log row to the run directory, keeps it for the plots, and forwards to the display.</summary>
    sealed class LogRecorder(RunDirectory dir, ITrainingObserver? display) : ITrainingObserver
    {
        public void OnLog(LogEntry e)
        {
            dir.OnLog(e);
            display?.OnLog(e);
        }

        public void OnStep(int step, int total, double loss) => display?.OnStep(step, total, loss);
        public void OnMessage(string message) => display?.OnMessage(message);
    }
}

/// <summary>Progress as plain lines (for pipes and CI): one line per log row, plus messages.</summary>
public sealed class PlainProgress(TextWriter output) : ITrainingObserver
{
    public void OnStart(string header) => output.WriteLine(header);

    public void OnLog(LogEntry e)
    {
        var err = e.Error is null ? "" : $"  rel L2 {e.Error.RelativeL2:0.000e+00}";
        var causal = e.Diagnostics is { } d && d.TryGetValue("causal_eps", out var eps) && d.TryGetValue("causal_min_w", out var w)
            ? $"  ε {eps:G3} min w {w:F3}" : "";
        output.WriteLine($"  {e.Phase,-5} {e.Step,7}  loss {e.Loss:0.000e+00}{err}{causal}  {e.Seconds,7:F1}s");
    }

    public void OnMessage(string message) => output.WriteLine($"  {message}");
}

/// <summary>Re-evaluation of a finished (or interrupted) run from its checkpoint.</summary>
public static class RunEvaluator
{
    public static (RunConfig Config, ErrorReport Error, TrainerState State) Evaluate(string runDir, IProblemCatalog catalog)
    {
        var yaml = Path.Combine(runDir, "run.yaml");
        if (!File.Exists(yaml)) throw new PinnException($"{runDir} is not a run directory (no run.yaml)");
        var cfg = RunConfigLoader.Load(yaml, catalog);
        var checkpoint = Checkpoint.Load(Path.Combine(runDir, Runner.CheckpointFolder));
        var problem = cfg.Problem;
        var reference = problem.Reference?.Solve(problem, cfg.Evaluation.CountsFor(problem))
                        ?? throw new PinnException($"problem '{problem.Name}' has no reference to evaluate against");
        var device = RunDevice.Resolve(cfg.Training.Device);
        var dtype = RunDevice.ResolveDType(cfg.Training.DType);
        using var model = ModelFactory.Create(cfg.Model, problem, dtype, device, cfg.Training.Seed);
        checkpoint.Restore(model, optimizer: null);
        return (cfg, new ReferenceComparison(reference).Measure(model, dtype, device), checkpoint.State);
    }
}
