using System.Text.Json;
using System.Text.Json.Nodes;
using Pinn.Config;
using Pinn.Models;
using Pinn.References;
using Pinn.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training;

public sealed record RunOutcome(string Directory, TrainingResult Result, RunConfig Config);

/// <summary>
/// One run end to end: device and seed, reference, model, training, and the run directory.
/// Everything that can reject the input (device, reference file, model options, loss-term keys, a
/// checkpoint that does not fit the model) is checked before the run directory is created or opened, so
/// bad input leaves nothing behind. Results are written even when training diverges or is interrupted;
/// the caller reports <see cref="TrainingResult.Status"/>. A run that fails after its folder exists
/// writes metrics.json with status "failed" and the error before the error propagates.
/// </summary>
public static class Runner
{
    public const string CheckpointFolder = "checkpoint";

    public static RunOutcome Run(RunConfig cfg, ITrainingObserver? display = null, CancellationToken cancel = default)
    {
        using var run = PreparedRun.Create(cfg, resume: null, display);
        using var dir = RunDirectory.Create(cfg);
        return run.Execute(dir, cancel);
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
        using var run = PreparedRun.Create(cfg, checkpoint, display);
        using var dir = RunDirectory.Open(runDir, checkpoint.State); // trims log.csv: only once the checkpoint is known to fit
        return run.Execute(dir, cancel);
    }

    /// <summary>A run with its device, reference, model and trainer built and checked, and nothing written yet.</summary>
    sealed class PreparedRun : IDisposable
    {
        readonly RunConfig _cfg;
        readonly Checkpoint? _resume;
        readonly ITrainingObserver? _display;
        readonly LogRecorder _log;
        Device _device = null!;
        ScalarType _dtype;
        string _deviceName = "cpu";
        ReferenceSolution? _reference;
        ReferenceComparison? _comparison;
        IFieldModel? _model;
        Generator? _initialisation;
        Trainer? _trainer;

        PreparedRun(RunConfig cfg, Checkpoint? resume, ITrainingObserver? display)
        {
            _cfg = cfg;
            _resume = resume;
            _display = display;
            _log = new LogRecorder(display);
        }

        public static PreparedRun Create(RunConfig cfg, Checkpoint? resume, ITrainingObserver? display)
        {
            var run = new PreparedRun(cfg, resume, display);
            try
            {
                ConfigLocation.Guard(cfg.Source, run.Build);
                return run;
            }
            catch
            {
                run.Dispose();
                throw;
            }
        }

        void Build()
        {
            var t = _cfg.Training;
            var problem = _cfg.Problem;
            _device = RunDevice.Resolve(t.Device);
            _dtype = RunDevice.ResolveDType(t.DType);
            if (t.Threads > 0) set_num_threads(t.Threads);
            _deviceName = _device.type == DeviceType.CUDA ? "cuda" : "cpu";

            _reference = problem.Reference?.Solve(problem, _cfg.Evaluation.CountsFor(problem));
            _comparison = _reference is null ? null : new ReferenceComparison(_reference, problem.UpToSign);
            // One stream for the run's models, in build order: time-marching windows draw after this model, as they
            // did from the global generator; nothing in a run draws from libtorch's global generator.
            _initialisation = Initialisation.Generator(t.Seed);
            _model = ModelFactory.Create(_cfg.Model, problem, _dtype, _device, t.Seed, _initialisation);
            if (_resume is not null)
            {
                if (t.TimeWindows > 1)
                    throw new PinnException("--resume is not supported for time-marching runs (training.time_windows > 1)") { Key = "training.time_windows" };
                _resume.Restore(_model, optimizer: null); // the trainer restores again with its optimiser; this checks the fit
            }
            if (t.TimeWindows <= 1) _trainer = new Trainer(problem, _model, t, _dtype, _device, _comparison, _log);
            else TimeMarching.Check(problem, _model, t, _dtype, _device); // it builds one trainer per window itself
        }

        public RunOutcome Execute(RunDirectory dir, CancellationToken cancel)
        {
            try
            {
                return ConfigLocation.Guard(_cfg.Source, () => Train(dir, cancel));
            }
            catch (Exception e)
            {
                RecordFailure(dir, e);
                throw;
            }
        }

        RunOutcome Train(RunDirectory dir, CancellationToken cancel)
        {
            var t = _cfg.Training;
            var problem = _cfg.Problem;
            var model = _model!;
            dir.WriteConfig(_cfg);
            if (_cfg.Output.TensorBoard) dir.EnableTensorBoard();
            dir.SetFields(problem.Fields);
            dir.SetDiagnostics(t.Plan.SelectMany(p => p.Diagnostics));
            _log.Dir = dir;
            var what = _resume is null ? "" : $", resuming at {_resume.State.Phase} step {_resume.State.Step}";
            _display?.OnStart($"{problem.Name}: {model.Describe()}, {DescribePlan(t)}, {t.DType} on {_deviceName} ({get_num_threads()} threads){what} → {dir.Path}");

            TrainingResult result;
            IFieldModel evaluated = model;
            if (_trainer is null)
            {
                (evaluated, result) = TimeMarching.Train(problem, _cfg.Model, t, _dtype, _device, _comparison, _log, cancel, _initialisation);
            }
            else
            {
                _trainer.CheckpointDir = Path.Combine(dir.Path, CheckpointFolder);
                result = _trainer.Train(_resume, cancel);
            }

            try
            {
                dir.WriteMetrics(_cfg, result, _deviceName, t.DType, problem.Reference?.Description);
                if (_reference is not null && result.Status is "completed" or "interrupted")
                {
                    var predicted = ReferenceComparison.Predict(evaluated, _reference.Points, _dtype, _device);
                    dir.WritePrediction(_reference, predicted);
                    dir.CloseLog();
                    RunPlots.Write(dir.Path, problem.Name, _reference, predicted, problem.Domain.TimeAxis, result.Error);
                }
            }
            finally
            {
                if (!ReferenceEquals(evaluated, model)) evaluated.Dispose();
            }
            return new RunOutcome(dir.Path, result, _cfg);
        }

        /// <summary>metrics.json with status "failed" and the error, so no run folder is left without a status.</summary>
        void RecordFailure(RunDirectory dir, Exception e)
        {
            try
            {
                var failed = new TrainingResult(_resume?.State.Step ?? 0, 0, 0, double.NaN, "failed", null,
                                                _model?.Describe() ?? "", _model?.ParameterCount ?? 0);
                dir.WriteMetrics(_cfg, failed, _deviceName, _cfg.Training.DType, _cfg.Problem.Reference?.Description);
                var path = Path.Combine(dir.Path, "metrics.json");
                var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
                json["error"] = e is PinnException ? e.Message : $"{e.GetType().Name}: {e.Message}";
                File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions
                {
                    WriteIndented = true,
                    Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
                }));
            }
            catch (Exception io) when (io is IOException or UnauthorizedAccessException or JsonException)
            {
                // The original error is the one to report; a folder we cannot write to cannot say more.
            }
        }

        public void Dispose()
        {
            _trainer?.Dispose();
            _model?.Dispose();
            _initialisation?.Dispose();
        }
    }

    /// <summary>The phases in words: "2000 Adam + 500 L-BFGS steps" (the shorthand, as before), or "adam 2000 → ssbroyden 20000".</summary>
    public static string DescribePlan(TrainingOptions t) => t.Phases is null
        ? $"{t.Steps} Adam + {t.LbfgsSteps} L-BFGS steps"
        : string.Join(" → ", t.Plan.Select(p => p.Name + " " + p.Steps + (p is Phases.LbfgsPhaseOptions { LineSearch: Phases.LbfgsLineSearch.StrongWolfe } ? " (strong Wolfe)" : "")));

    /// <summary>Writes each log row to the run directory (once it exists), keeps it for the plots, and forwards to the display.</summary>
    sealed class LogRecorder(ITrainingObserver? display) : ITrainingObserver
    {
        public RunDirectory? Dir { get; set; }

        public void OnLog(LogEntry e)
        {
            Dir?.OnLog(e);
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
        using var run = TrainedRun.Load(runDir, catalog);
        var cfg = run.Config;
        return ConfigLocation.Guard(cfg.Source, () =>
        {
            var problem = cfg.Problem;
            var reference = problem.Reference?.Solve(problem, cfg.Evaluation.CountsFor(problem))
                            ?? throw new PinnException($"problem '{problem.Name}' has no reference to evaluate against");
            return (cfg, new ReferenceComparison(reference, problem.UpToSign).Measure(run.Model, run.DType, run.Device), run.State);
        });
    }
}
