using TorchSharp;
using Pinn.Config;
using Pinn.Models;
using Pinn.Reporting;
using static TorchSharp.torch;

namespace Pinn.Training;

public sealed record RunOutcome(string Directory, TrainingResult Result);

/// <summary>
/// One run end to end: device and seed, reference, model, training, and the run directory.
/// Results are written even when training diverges; the caller reports <see cref="TrainingResult.Status"/>.
/// </summary>
public static class Runner
{
    public static RunOutcome Run(RunConfig cfg, TextWriter? progress = null)
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

        using var model = ModelFactory.Create(cfg.Model, problem, dtype, device);
        using var dir = RunDirectory.Create(cfg);
        dir.WriteConfig(cfg, deviceName, t.DType);
        dir.SetFields(problem.Fields);
        progress?.WriteLine($"{problem.Name}: {model.Describe()}, {t.Steps} Adam + {t.LbfgsSteps} L-BFGS steps, {t.DType} on {deviceName} ({get_num_threads()} threads) → {dir.Path}");

        var observer = new ProgressPrinter(dir, progress);
        using var trainer = new Trainer(problem, model, t, dtype, device, comparison, observer);
        var result = trainer.Train();
        dir.WriteMetrics(cfg, result, deviceName, t.DType, problem.Reference?.Description);
        if (reference is not null && result.Status == "completed")
            dir.WritePrediction(reference, ReferenceComparison.Predict(model, reference.Points, dtype, device));
        return new RunOutcome(dir.Path, result);
    }

    sealed class ProgressPrinter(ITrainingObserver inner, TextWriter? console) : ITrainingObserver
    {
        public void OnLog(LogEntry e)
        {
            inner.OnLog(e);
            if (console is null) return;
            var err = e.Error is null ? "" : $"  rel L2 {e.Error.RelativeL2:0.000e+00}";
            console.WriteLine($"  {e.Phase,-5} {e.Step,7}  loss {e.Loss:0.000e+00}{err}  {e.Seconds,7:F1}s");
        }
    }
}
