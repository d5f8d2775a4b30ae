using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Training.Optimizers;

/// <summary>
/// A least-squares objective L(x) = ‖r̃(x)‖² of one flat float64 parameter vector, as the Gauss–Newton optimisers see
/// it: the stacked scaled residuals r̃ (N) and their Jacobian J = ∂r̃/∂x (N × P). Same ownership rules as
/// <see cref="IObjective"/>: the returned tensors are new and belong to the caller's dispose scope.
/// </summary>
public interface IResidualObjective
{
    /// <summary>P, the number of parameters.</summary>
    long Count { get; }

    /// <summary>r̃(x) and, when <paramref name="jacobian"/>, J(x); x is neither modified nor kept.</summary>
    (Tensor Residuals, Tensor? Jacobian) Evaluate(Tensor x, bool jacobian);

    /// <summary>Puts x into the model (where the optimiser leaves it between evaluations).</summary>
    void Assign(Tensor x);
}

/// <summary>
/// The trainer's loss terms as residuals over the model's parameters (<see cref="LossTerm.ScaledResiduals"/>), with
/// the Jacobian by reverse mode, one vector–Jacobian product per residual row on one retained graph: exact for every
/// model (MLP, modified MLP, PIG, trainable embeddings) and every derivative engine, at the cost of N backward passes.
/// (The one-backward per-sample Jacobian of tanh MLPs, OPTIMIZERS.md §9, is the fast path still to come.)
/// </summary>
public sealed class ResidualObjective : IResidualObjective
{
    readonly IReadOnlyList<TorchParameter> _parameters;
    readonly Func<Tensor> _residuals;
    readonly ParameterObjective _flat;

    /// <param name="residuals">Builds the 1-D scaled residual vector r̃ from the current parameter values.</param>
    public ResidualObjective(IReadOnlyList<TorchParameter> parameters, Func<Tensor> residuals)
    {
        _flat = new ParameterObjective(parameters, () => residuals().square().sum()); // checks float64, flattens and assigns
        _parameters = parameters;
        _residuals = residuals;
    }

    public long Count => _flat.Count;

    /// <summary>The current parameter values as a new flat vector (in the caller's dispose scope).</summary>
    public Tensor Flatten() => _flat.Flatten();

    public void Assign(Tensor x) => _flat.Assign(x);

    /// <summary>The scalar view, ‖r̃‖² and its gradient (for line searches and tests).</summary>
    public IObjective Scalar => _flat;

    public (Tensor Residuals, Tensor? Jacobian) Evaluate(Tensor x, bool jacobian)
    {
        Assign(x);
        using var scope = NewDisposeScope();
        var r = _residuals();
        if (r.ndim != 1) throw new InvalidOperationException($"scaled residuals must be a 1-D vector, got shape [{string.Join(", ", r.shape)}]");
        var values = r.detach().clone();
        if (!jacobian) return (values.MoveToOuterDisposeScope(), null);
        long n = r.shape[0];
        var rows = zeros(n, Count, dtype: ScalarType.Float64, device: r.device);
        var inputs = _parameters.Cast<Tensor>().ToList();
        for (long i = 0; i < n; i++)
        {
            using var rowScope = NewDisposeScope();
            var e = zeros_like(r);
            e[i] = 1.0;
            var grads = autograd.grad([r], inputs, [e], retain_graph: i < n - 1, allow_unused: true);
            long offset = 0;
            for (int k = 0; k < inputs.Count; k++)
            {
                long m = inputs[k].numel();
                if (grads[k] is { } g && g.IsInvalid == false && g.numel() == m) rows[i].narrow(0, offset, m).copy_(g.reshape(-1));
                offset += m;
            }
        }
        return (values.MoveToOuterDisposeScope(), rows.MoveToOuterDisposeScope());
    }
}
