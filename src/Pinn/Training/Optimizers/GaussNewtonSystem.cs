using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>
/// The Gauss–Newton system of a least-squares objective ‖r̃(x)‖² linearised at one point, seen only through products:
/// (JᵀJ + μI) h = −Jᵀr̃ needs <see cref="Apply"/> (JᵀJ v) and <see cref="Gradient"/> (Jᵀr̃), so a matrix-free solve
/// (conjugate gradients on a Kronecker-structured J) can run where the dense N × P Jacobian does not fit. Returned
/// tensors are new and belong to the caller's dispose scope.
/// </summary>
public interface IGaussNewtonSystem
{
    /// <summary>P, the number of unknowns.</summary>
    long Count { get; }

    /// <summary>g = Jᵀr̃ (half the gradient of ‖r̃‖²).</summary>
    Tensor Gradient();

    /// <summary>JᵀJ v for a P-vector v.</summary>
    Tensor Apply(Tensor v);
}
