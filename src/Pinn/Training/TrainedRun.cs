using Pinn.Config;
using Pinn.Models;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>
/// A run's trained model, rebuilt from its run.yaml and restored from its checkpoint (<c>pinn eval</c>, <c>pinn predict</c>):
/// every model type the run config can build (mlp, modified_mlp, pig, gp, with or without hard constraints).
/// </summary>
public sealed class TrainedRun : IDisposable
{
    TrainedRun(RunConfig config, IFieldModel model, ScalarType dtype, Device device, TrainerState state)
    {
        Config = config;
        Model = model;
        DType = dtype;
        Device = device;
        State = state;
    }

    public RunConfig Config { get; }
    public IFieldModel Model { get; }
    public ScalarType DType { get; }
    public Device Device { get; }
    /// <summary>Where the checkpoint stands (phase, step).</summary>
    public TrainerState State { get; }

    public static TrainedRun Load(string runDir, IProblemCatalog catalog)
    {
        var yaml = Path.Combine(runDir, "run.yaml");
        if (!File.Exists(yaml)) throw new PinnException($"{runDir} is not a run directory (no run.yaml)");
        var cfg = RunConfigLoader.Load(yaml, catalog);
        if (cfg.Training.TimeWindows > 1) // each window trains its own model and none is checkpointed
            throw new PinnException($"{runDir}: a time-marching run (training.time_windows {cfg.Training.TimeWindows}) keeps no checkpoint to reload");
        var checkpoint = Checkpoint.Load(Path.Combine(runDir, Runner.CheckpointFolder));
        return ConfigLocation.Guard(cfg.Source, () =>
        {
            var device = RunDevice.Resolve(cfg.Training.Device);
            var dtype = RunDevice.ResolveDType(cfg.Training.DType);
            var model = ModelFactory.Create(cfg.Model, cfg.Problem, dtype, device, cfg.Training.Seed);
            try
            {
                checkpoint.Restore(model, optimizer: null);
            }
            catch
            {
                model.Dispose();
                throw;
            }
            return new TrainedRun(cfg, model, dtype, device, checkpoint.State);
        });
    }

    public void Dispose() => Model.Dispose();
}
