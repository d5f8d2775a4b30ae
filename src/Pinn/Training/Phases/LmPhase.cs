using Pinn.Training.Optimizers;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>
/// Levenberg–Marquardt (<see cref="LevenbergMarquardt"/>, optionally with geodesic acceleration) over the trainer's loss terms
/// as one stacked residual vector (<see cref="GaussNewtonPhase{T}"/>: batches, RAD cycles, checks, checkpoint). The damping
/// is kept across redraws; the state in the checkpoint is x, μ, ν and the counters.
/// </summary>
public sealed class LmPhase(LmPhaseOptions options, IPhaseHost host) : GaussNewtonPhase<LevenbergMarquardt>(options, host)
{
    protected override string Method => "Levenberg–Marquardt";
    protected override string CyclesMagic => "pinn.lm_cycles";

    protected override LevenbergMarquardt Start(ResidualObjective objective, Tensor x0) => new(objective, x0, options.Lm);

    protected override LevenbergMarquardt Resume(ResidualObjective objective, BinaryReader saved, Device device) =>
        LevenbergMarquardt.Resume(objective, saved, options.Lm, device);

    protected override GaussNewtonIteration Advance(LevenbergMarquardt lm)
    {
        var step = lm.Step();
        return new(step.Moved, step.Stop, new Dictionary<string, double> { ["lm_damping"] = step.Damping, ["lm_gain"] = step.GainRatio, ["lm_rejections"] = step.Rejections });
    }
}
