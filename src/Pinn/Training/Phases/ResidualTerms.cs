using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>
/// The trainer's loss terms as one stacked residual vector r̃ (<see cref="LossTerm.ScaledResidualBlocks"/>, ‖r̃‖² = the
/// weighted loss), as the Gauss–Newton-type phases (lm, tr, engd) read them: the checks that refuse what has no residual
/// vector, the Jacobian size limit, the objective over the model's parameters and the logged terms.
/// </summary>
public sealed class ResidualTerms(IPhaseHost host, string phase, string method)
{
    /// <summary>
    /// What such a phase does when it begins: a fresh start draws the batch (a run may start with it) and tags the cycles;
    /// then the checks, the objective, the resampling check, and either the Jacobian size check (fresh) or the saved
    /// cycles and batches (<paramref name="saved"/>, read before the optimiser's own state).
    /// </summary>
    public ResidualObjective Begin(BinaryReader? saved, ResampleCycles cycles, ResampleOptions? resample, int maxJacobianMb, string cyclesMagic)
    {
        if (saved is null)
        {
            host.DrawBatch(); // before the checks evaluate the terms: a run that starts with this phase has no batch yet
            cycles.Tag = host.Draws;
        }
        Check();
        var objective = Objective();
        if (resample is not null) ResidualResampler.Check(host, resample, phase);
        if (saved is null) CheckSize(objective.Count, maxJacobianMb);
        else if (resample is not null) cycles.Load(host, saved, cyclesMagic, phase);
        return objective;
    }

    /// <summary>
    /// Refuses a model with a prior (the GP) and a term that is not a weighted mean of squares (causal weighting), by name;
    /// the terms are evaluated, so a batch must have been drawn.
    /// </summary>
    public void Check()
    {
        if (host.Options.Balancing.Kind == "precision")
            throw new PinnException($"{phase}: training.balancing: {{kind: precision}} weighs each term by a learned precision with a " +
                                    $"−½ log τ term, which is not a square, so the loss has no residual vector for {method}; use adam, " +
                                    "lbfgs or ssbroyden, or a fixed weighting (balancing none)") { Key = "training.balancing" };
        using var scope = NewDisposeScope();
        var ctx = host.NewContext();
        if (host.Model.PriorLoss(ctx) is not null)
            throw new PinnException($"{phase}: the loss of {host.Model.Describe()} has a prior term with no residual vector for {method}: " +
                                    host.Model.PriorDescription);
        foreach (var t in host.Terms)
            if (t.ScaledResiduals(ctx) is null)
                throw new PinnException($"{phase}: loss term '{t.Name}' ({t.GetType().Name}) is not a weighted mean of squares, " +
                                        $"so it has no residual vector for {method}: {t.NoResidualsReason}");
    }

    /// <summary>Refuses a Jacobian (N × P doubles) above <paramref name="maxMb"/> MiB before it is formed.</summary>
    public void CheckSize(long parameters, int maxMb)
    {
        using var scope = NewDisposeScope();
        long n = cat(Blocks().ToList(), 0).shape[0];
        double mb = 8.0 * n * parameters / (1 << 20);
        if (mb > maxMb)
            throw new PinnException($"{phase}: the Jacobian would be {n} residuals × {parameters} parameters = {mb:F0} MiB, above " +
                                    $"max_jacobian_mb = {maxMb}; use a smaller batch or network, or raise max_jacobian_mb");
    }

    /// <summary>Every term's scaled residuals, block by block, on one step context.</summary>
    public IReadOnlyList<Tensor> Blocks()
    {
        var ctx = host.NewContext();
        return host.Terms.SelectMany(t => t.ScaledResidualBlocks(ctx)!).ToList();
    }

    /// <summary>r̃ and its exact Jacobian over the model's trainable parameters (the per-sample route where it applies).</summary>
    public ResidualObjective Objective() => new(host.Parameters, Blocks, host.Model, host.ProblemParameters.Capture);

    /// <summary>Each unweighted loss term at the current parameters (a logged iteration's terms).</summary>
    public IReadOnlyDictionary<string, double> Logged()
    {
        using var scope = NewDisposeScope();
        return host.Loss(host.NewContext()).Terms.ToDictionary(t => t.Name, t => t.Value.ToDouble());
    }
}
