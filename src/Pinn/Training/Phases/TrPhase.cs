using Pinn.Training.Optimizers;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>
/// Trust-region Gauss–Newton with DSGNAR's adaptive-ratio radius (<see cref="TrustRegionGaussNewton"/>) over the trainer's
/// loss terms as one stacked residual vector (<see cref="GaussNewtonPhase{T}"/>: batches, RAD cycles, checks, checkpoint).
/// The radius, λ, the ratio target's switch and the sketch stream are kept across redraws and are in the checkpoint. The
/// sketch stream is seeded from training.seed and the run-wide draw count when the phase begins.
/// </summary>
public sealed class TrPhase(TrPhaseOptions options, IPhaseHost host) : GaussNewtonPhase<TrustRegionGaussNewton>(options, host)
{
    protected override string Method => "the trust-region Gauss–Newton method";
    protected override string CyclesMagic => "pinn.tr_cycles";

    protected override TrustRegionGaussNewton Start(ResidualObjective objective, Tensor x0) =>
        new(objective, x0, options.Tr, new SplitMix64((ulong)Host.Options.Seed).Next() ^ (ulong)Host.Draws);

    protected override TrustRegionGaussNewton Resume(ResidualObjective objective, BinaryReader saved, Device device) =>
        TrustRegionGaussNewton.Resume(objective, saved, options.Tr, device);

    protected override GaussNewtonIteration Advance(TrustRegionGaussNewton tr)
    {
        var step = tr.Step();
        return new(step.Moved, step.Stop, new Dictionary<string, double>
        {
            ["tr_radius"] = step.Radius, ["tr_lambda"] = step.Lambda, ["tr_ratio"] = step.Ratio, ["tr_target"] = tr.TargetRatio,
        });
    }
}
