using Pinn.Autodiff;
using static TorchSharp.torch;

namespace Pinn.Models;

/// <summary>A model that can carry Taylor jets: every ∂^α u of <paramref name="set"/> in one forward pass.</summary>
public interface IJetModel : IFieldModel
{
    Jet ForwardJet(Tensor x, IReadOnlyList<MultiIndex> set);

    /// <summary>
    /// With training.derivatives = auto, jets are used from this derivative order on (measured per
    /// model: jets beat nested autograd from order 3 for MLPs, at every order for PIG's closed forms).
    /// </summary>
    int AutoJetFromOrder { get; }
}
