using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>
/// A smooth function of one flat float64 parameter vector, with its gradient — what the dense
/// quasi-Newton optimiser minimises. The trainer's implementation is <see cref="ParameterObjective"/>
/// (model parameters flattened, one loss graph per call).
/// </summary>
public interface IObjective
{
    /// <summary>
    /// f(x) and ∇f(x) at <paramref name="x"/> (1-D, float64, P entries; the objective must neither modify
    /// nor keep it). The gradient is a new 1-D float64 tensor of P entries that belongs to the caller's
    /// current dispose scope: an implementation builds its graph in its own <c>NewDisposeScope()</c> and
    /// hands the gradient out with <c>MoveToOuterDisposeScope()</c> (TORCHSHARP.md, pitfall 1).
    /// A non-finite value is allowed; the line search backs away from it.
    /// </summary>
    (double Value, Tensor Gradient) Evaluate(Tensor x);
}
