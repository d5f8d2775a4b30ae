using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Models;

/// <summary>
/// A representation of the unknown fields: maps points (N×d) to field values (N×m), row by row.
/// It owns its trainable parameters and may add a prior term to the loss (a GP's log-likelihood).
/// PINN and PIG differ only in the model; the problem and the trainer are shared.
/// </summary>
public interface IFieldModel : IDisposable
{
    int InputDim { get; }
    int OutputDim { get; }

    /// <summary>Field values at <paramref name="points"/>; row i must depend only on point i (derivatives rely on it).</summary>
    Tensor Forward(Tensor points);

    IReadOnlyList<TorchParameter> TrainableParameters { get; }

    /// <summary>
    /// The model's own prior −log p(θ) on step <paramref name="ctx"/>, added to the loss before the terms (none for neural
    /// models; the grid GP: −log N(vec U | 0, ⊗K_j) summed over its fields, sharing the step's factorisation with its terms).
    /// It has no residual vector (the GP's holds log-determinants), so the residual phases (lm, tr, engd) refuse a model that
    /// has one, naming <see cref="PriorDescription"/>.
    /// </summary>
    Tensor? PriorLoss(Training.StepContext ctx) => null;

    /// <summary>What the prior is, for the refusal of a residual phase (only read when <see cref="PriorLoss"/> is not null).</summary>
    string PriorDescription => "the model's prior";

    /// <summary>The model's own log.csv columns after a logged Adam step (the GP's last grid-value solve: solve_cg, solve_residual).</summary>
    IEnumerable<(string Name, double Value)> Diagnostics => [];

    /// <summary>
    /// The model's own loss terms on its own points (the grid GP: prior and likelihoods with learned precisions on its
    /// collocation grid) instead of the trainer's sampled residual terms; null (every neural model): the sampled ones.
    /// The trainer asks every model; there is no model-type test anywhere in it.
    /// </summary>
    IReadOnlyList<Training.LossTerm>? CreateTerms(Problems.Problem problem, Training.TrainingOptions options) => null;

    /// <summary>
    /// After Adam step <paramref name="stepsDone"/> − 1: a chance to update parameters in closed form
    /// (the GP's Gauss–Newton solve for its grid values). Must be a function of the step number only,
    /// so that a resumed run repeats it exactly.
    /// </summary>
    void AfterStep(int stepsDone, Func<Training.StepContext> newContext, IReadOnlyList<Training.LossTerm> terms) { }

    /// <summary>
    /// Names of the problem's conditions the model satisfies by construction (model.hard_constraints): the trainer
    /// builds no loss term for them.
    /// </summary>
    IReadOnlyCollection<string> EnforcedConditions => [];

    /// <summary>
    /// Starts recording what the per-sample Jacobian needs (<see cref="Training.Optimizers.ResidualObjective"/>) for every
    /// forward pass until the capture is disposed: a tanh network's layer inputs and pre-activations, PIG's per-sample
    /// parameter views. Null: the model has no such route (the Jacobian is then formed row by row).
    /// </summary>
    LayerCapture? BeginCapture() => null;

    /// <summary>
    /// Whether autograd can differentiate <see cref="Forward"/> in the points at any point (<c>pinn predict --derivatives</c>).
    /// The grid GP cannot: off its grid it is a conditional mean gathered by <c>unique</c>, which has no derivative in libtorch
    /// (its derivatives exist on the grid only, as Kronecker products with kernel-derivative matrices).
    /// </summary>
    bool DifferentiableInPoints => true;

    /// <summary>One line for logs: architecture and size.</summary>
    string Describe();

    long ParameterCount => TrainableParameters.Sum(p => p.numel());

    /// <summary>
    /// Optimiser parameter groups with learning-rate multipliers on the schedule (PIG trains its
    /// Gaussians and its head at different rates). Together they must hold every trainable parameter.
    /// </summary>
    IReadOnlyList<(IReadOnlyList<TorchParameter> Parameters, double LrScale)> ParameterGroups => [(TrainableParameters, 1.0)];
}
