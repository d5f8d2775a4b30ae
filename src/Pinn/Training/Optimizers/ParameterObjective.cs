using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Training.Optimizers;

/// <summary>
/// A loss over model parameters seen as one flat vector x (the parameters in list order, each
/// flattened): <see cref="Evaluate"/> writes x into the parameters, builds the loss graph with
/// <c>loss()</c> and back-propagates. Same conventions as <see cref="Lbfgs"/>: the graph and every
/// temporary live in an inner dispose scope, only the gradient leaves it.
/// </summary>
public sealed class ParameterObjective : IObjective
{
    readonly IReadOnlyList<TorchParameter> _parameters;
    readonly Func<Tensor> _loss;

    /// <param name="loss">Builds a fresh scalar loss graph from the current parameter values.</param>
    public ParameterObjective(IReadOnlyList<TorchParameter> parameters, Func<Tensor> loss)
    {
        if (parameters.Count == 0) throw new PinnException("the objective has no parameters");
        foreach (var p in parameters)
            if (p.dtype != ScalarType.Float64)
                throw new PinnException($"the dense quasi-Newton optimiser works in float64, but a parameter is {p.dtype} (set training.dtype: float64)");
        _parameters = parameters;
        _loss = loss;
        Count = parameters.Sum(p => p.numel());
    }

    /// <summary>P, the number of scalar parameters.</summary>
    public long Count { get; }

    /// <summary>The current parameter values as a new flat vector (in the caller's dispose scope).</summary>
    public Tensor Flatten() => Flat(p => p.detach());

    /// <summary>Writes a flat vector back into the parameters.</summary>
    public void Assign(Tensor x)
    {
        if (x.ndim != 1 || x.shape[0] != Count) throw new PinnException($"expected a flat vector of {Count} parameters, got shape [{string.Join(", ", x.shape)}]");
        using var _ = no_grad();
        long offset = 0;
        foreach (var p in _parameters)
        {
            long n = p.numel();
            p.copy_(x.narrow(0, offset, n).view_as(p));
            offset += n;
        }
    }

    public (double Value, Tensor Gradient) Evaluate(Tensor x)
    {
        Assign(x);
        using var scope = NewDisposeScope();
        foreach (var p in _parameters) p.grad?.zero_();
        var loss = _loss();
        loss.backward();
        var g = Flat(p => p.grad ?? zeros_like(p));
        return (loss.ToDouble(), g.MoveToOuterDisposeScope());
    }

    // clone(): with a single parameter, cat may return a view of the parameter itself (see Lbfgs).
    Tensor Flat(Func<TorchParameter, Tensor> pick) => cat(_parameters.Select(p => pick(p).flatten()).ToList(), 0).detach().clone();
}
