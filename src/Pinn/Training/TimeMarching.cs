using Pinn.Geometry;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Reporting;
using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Training;

/// <summary>
/// Time marching (Wang, Sankaran &amp; Perdikaris, §4; the KS benchmark uses 10 windows): [t0, T] is
/// split into equal windows trained one after another; window k's initial condition is window k−1's
/// prediction at its end, and its network starts from window k−1's weights. The stitched
/// <see cref="WindowedModel"/> is what gets evaluated. Each window gets the full step budget.
/// Only field values are carried across windows (a problem with u_t in its initial conditions keeps
/// that condition in the first window only). The window models draw their initial values from
/// <c>initialisation</c> when given (the run's stream), else each from a generator for seed + k.
/// </summary>
public static class TimeMarching
{
    /// <summary>
    /// Builds (and drops) the first window's trainer, so options it would reject (an unknown batch key, say)
    /// are reported before a run starts; it draws no points and no random numbers.
    /// </summary>
    public static void Check(Problem problem, IFieldModel model, TrainingOptions options, ScalarType dtype, Device device)
    {
        var time = TimeAxis(problem);
        if (problem.Conditions.FirstOrDefault(c => c.Kind == ConditionKind.Initial && model.EnforcedConditions.Contains(c.Name)) is { } ic)
            throw new PinnException($"model.hard_constraints.initial: time marching (training.time_windows: {options.TimeWindows}) starts each window " +
                                    $"after the first from the previous window's prediction, not from '{ic.Name}', so the initial value cannot be built " +
                                    "into every window; set initial: false (dirichlet can stay) or use one window") { Key = "model.hard_constraints.initial" };
        var window = new TimeWindowProblem(problem, time.Min, time.Min + time.Length / options.TimeWindows, keepInitialConditions: true);
        using var trainer = new Trainer(window, model, options, dtype, device);
    }

    static Geometry.Axis TimeAxis(Problem problem) =>
        problem.Domain[problem.Domain.TimeAxis ?? throw new PinnException($"training.time_windows: problem '{problem.Name}' has no time coordinate") { Key = "training.time_windows" }];

    public static (IFieldModel Model, TrainingResult Result) Train(
        Problem problem, ModelOptions modelOptions, TrainingOptions options, ScalarType dtype, Device device,
        ReferenceComparison? comparison, ITrainingObserver? observer, CancellationToken cancel, Generator? initialisation = null)
    {
        var time = TimeAxis(problem);
        int n = options.TimeWindows;
        var windows = new List<(double Lo, double Hi, IFieldModel Model)>();
        int adam = 0, lbfgs = 0, recoveries = 0;
        double seconds = 0, loss = double.NaN;
        string status = "completed";
        for (int k = 0; k < n && status == "completed"; k++)
        {
            double lo = time.Min + time.Length * k / n, hi = k == n - 1 ? time.Max : time.Min + time.Length * (k + 1) / n;
            var window = new TimeWindowProblem(problem, lo, hi, keepInitialConditions: k == 0);
            var model = ModelFactory.Create(modelOptions, window, dtype, device, options.Seed + k, initialisation);
            Func<Tensor, Tensor>? initial = null;
            if (k > 0)
            {
                var previous = windows[^1].Model;
                Checkpoint.Capture(new TrainerState(), previous, null).Restore(model, null); // warm start
                initial = points =>
                {
                    using var _ = no_grad();
                    return previous.Forward(points.detach());
                };
            }
            observer?.OnMessage($"time window {k + 1}/{n}: t ∈ [{lo:G4}, {hi:G4}]");
            using var trainer = new Trainer(window, model, options with { Seed = options.Seed + k }, dtype, device,
                                            comparison: null, observer, checkpointDir: null, initialData: initial);
            var r = trainer.Train(cancel: cancel);
            windows.Add((lo, hi, model));
            adam += r.AdamSteps; lbfgs += r.LbfgsSteps; seconds += r.Seconds; recoveries += r.Recoveries;
            loss = r.FinalLoss;
            status = r.Status;
        }
        var stitched = new WindowedModel(windows, problem.Domain.IndexOf(time.Name));
        var error = comparison?.Measure(stitched, dtype, device);
        return (stitched, new TrainingResult(adam, lbfgs, seconds, loss, status, error, $"{n} time windows of {windows[0].Model.Describe()}",
                                             ((IFieldModel)stitched).ParameterCount, recoveries));
    }
}

/// <summary>One model per time window, each answering for the points in its window.</summary>
public sealed class WindowedModel(IReadOnlyList<(double Lo, double Hi, IFieldModel Model)> windows, int timeColumn) : IFieldModel
{
    public int InputDim => windows[0].Model.InputDim;
    public int OutputDim => windows[0].Model.OutputDim;
    public IReadOnlyList<TorchParameter> TrainableParameters => windows.SelectMany(w => w.Model.TrainableParameters).ToList();
    public string Describe() => $"{windows.Count} time windows";

    public Tensor Forward(Tensor points)
    {
        var t = points[TensorIndex.Colon, timeColumn];
        var output = zeros([points.shape[0], OutputDim], dtype: points.dtype, device: points.device);
        for (int k = 0; k < windows.Count; k++)
        {
            var (lo, hi, model) = windows[k];
            // Window k owns [lo, hi); the first also owns everything before, the last everything after.
            bool first = k == 0, last = k == windows.Count - 1;
            var mask = first && last ? ones_like(t, dtype: ScalarType.Bool)
                     : first ? t.lt(hi)
                     : last ? t.ge(lo)
                     : t.ge(lo).logical_and(t.lt(hi));
            var idx = mask.nonzero().squeeze(1);
            if (idx.numel() == 0) continue;
            output = output.index_copy(0, idx, model.Forward(points.index_select(0, idx)));
        }
        return output;
    }

    public void Dispose()
    {
        foreach (var w in windows) w.Model.Dispose();
    }
}
