using Pinn.Problems;

namespace Pinn.Training;

/// <summary>
/// A model that brings its own training objective instead of the generic residual loss on sampled
/// points — the grid GP's negative log joint (prior + likelihoods with learned precisions on its
/// collocation grid). The <see cref="Trainer"/> then minimises these terms with the same machinery
/// (Adam, L-BFGS, checkpoints, divergence recovery, logging).
/// </summary>
public interface IModelLoss
{
    IReadOnlyList<LossTerm> CreateTerms(Problem problem, TrainingOptions options);

    /// <summary>
    /// After Adam step <paramref name="stepsDone"/> − 1: a chance to update parameters in closed form
    /// (the GP's Gauss–Newton solve for its grid values). Must be a function of the step number only,
    /// so that a resumed run repeats it exactly.
    /// </summary>
    void AfterStep(int stepsDone, Func<StepContext> newContext, IReadOnlyList<LossTerm> terms) { }
}
