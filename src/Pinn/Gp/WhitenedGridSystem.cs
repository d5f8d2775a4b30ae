using Pinn.Training.Optimizers;
using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>
/// The Gauss–Newton system of <see cref="GridLinearisation"/> in whitened coordinates V, U = (⊗_j L_j) V per field
/// (K_j = L_j L_jᵀ): the prior rows (⊗L_j)⁻¹U become V itself, so the matrix is I + (J_r L)ᵀ(J_r L) — the prior block is
/// exactly the identity, every eigenvalue is ≥ 1, and the Gauss–Newton step in V is the one in U mapped by L (no
/// damping needed for definiteness). Each product costs two mode products with L_j per axis plus those of J_r:
/// O(N Σ n_j). The preconditioner for this system is <see cref="SpectralPreconditioner"/>.
/// </summary>
public sealed class WhitenedGridSystem(GridLinearisation lin) : IGaussNewtonSystem
{
    readonly GridValueResiduals _owner = lin.Owner;

    public long Count => lin.Count;
    public GridLinearisation Linearisation => lin;

    /// <summary>U = L V (a step in V mapped to the grid values).</summary>
    public Tensor ToValues(Tensor v) => _owner.CholeskyProduct(v, transpose: false);

    /// <summary>Lᵀ Jᵀr̃ = V + (J_r L)ᵀ r̃_r.</summary>
    public Tensor Gradient() => _owner.CholeskyProduct(lin.Gradient(), transpose: true);

    /// <summary>v + Lᵀ J_rᵀ J_r L v.</summary>
    public Tensor Apply(Tensor v) => _owner.CholeskyProduct(lin.ApplyLikelihood(ToValues(v)), transpose: true).add_(v);
}
