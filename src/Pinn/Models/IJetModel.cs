using Pinn.Autodiff;
using static TorchSharp.torch;

namespace Pinn.Models;

/// <summary>A model that can carry Taylor jets: every ∂^α u of <paramref name="set"/> in one forward pass.</summary>
public interface IJetModel : IFieldModel
{
    Jet ForwardJet(Tensor x, IReadOnlyList<MultiIndex> set);

    /// <summary>Whether the model can carry a linear operator as one jet block at all (<see cref="CarriesOperators"/>: at these points).</summary>
    bool CanCarryOperators => false;

    /// <summary>Whether <see cref="ForwardJet(Tensor, IReadOnlyList{MultiIndex}, IReadOnlyList{ValueTuple{MultiIndex, double}})"/> works at these points.</summary>
    bool CarriesOperators(Tensor x) => false;

    /// <summary>
    /// The jet over <paramref name="set"/> plus one block L u for L = Σ c_α ∂^α (<paramref name="op"/>), the
    /// members not carried individually. <paramref name="set"/> must hold every factor of the members' chain rules.
    /// </summary>
    (Jet Jet, Tensor Operator) ForwardJet(Tensor x, IReadOnlyList<MultiIndex> set, IReadOnlyList<(MultiIndex Alpha, double C)> op) =>
        throw new NotSupportedException($"{GetType().Name} does not carry operator blocks");

    /// <summary>
    /// With training.derivatives = auto, jets are used from this derivative order on (measured per
    /// model: jets beat nested autograd from order 3 for MLPs, at every order for PIG's closed forms).
    /// </summary>
    int AutoJetFromOrder { get; }
}
