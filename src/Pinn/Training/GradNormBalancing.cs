using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Training;

/// <summary>Global loss-weight balancing (YAML <c>training.balancing</c>); off by default.</summary>
public sealed record BalancingOptions
{
    /// <summary>none | gradnorm | precision (learned noise precisions, <see cref="LearnedPrecisions"/>).</summary>
    public string Kind { get; init; } = "none";
    /// <summary>Refresh the weights every this many steps (from step 0).</summary>
    public int Every { get; init; } = 1000;
    /// <summary>Moving-average factor: λ ← α λ + (1 − α) λ_new.</summary>
    public double Alpha { get; init; } = 0.9;
}

/// <summary>
/// Gradient-norm loss balancing (Wang, Sankaran, Wang &amp; Perdikaris, "An expert's guide to training
/// physics-informed neural networks", §3): λ_k = mean_j ‖∇_θ L_j‖ / ‖∇_θ L_k‖, so every term pulls
/// on the parameters equally hard, smoothed by a moving average. Costs one extra backward pass per
/// term every <see cref="BalancingOptions.Every"/> steps.
/// </summary>
public static class GradNormBalancing
{
    /// <summary>Updates each term's weight from its unweighted loss (graph still alive).</summary>
    public static void Update(IReadOnlyList<(LossTerm Term, Tensor Loss)> terms, IReadOnlyList<TorchParameter> parameters, double alpha)
    {
        var norms = terms.Select(t => GradientNorm(t.Loss, parameters)).ToArray();
        double mean = norms.Average();
        for (int k = 0; k < terms.Count; k++)
        {
            if (!(norms[k] > 0) || !double.IsFinite(norms[k])) continue; // a term with no gradient keeps its weight
            double target = mean / norms[k];
            terms[k].Term.Weight = alpha * terms[k].Term.Weight + (1 - alpha) * target;
        }
    }

    static double GradientNorm(Tensor loss, IReadOnlyList<TorchParameter> parameters)
    {
        using var scope = NewDisposeScope();
        var grads = autograd.grad([loss], parameters.Cast<Tensor>().ToList(), retain_graph: true, allow_unused: true);
        double sq = 0;
        foreach (var g in grads)
            if (g is not null && !g.IsInvalid) sq += g.square().sum().ToDouble();
        return Math.Sqrt(sq);
    }
}
