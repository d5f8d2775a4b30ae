using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>What a Gauss–Newton-type optimiser (<see cref="LevenbergMarquardt"/>, <see cref="TrustRegionGaussNewton"/>) offers its phase.</summary>
public interface IGaussNewtonOptimizer : IDisposable
{
    /// <summary>‖r̃‖² at the iterate.</summary>
    double Value { get; }
    int Iterations { get; }
    int Evaluations { get; }
    /// <summary>J̃ᵀr̃ at the iterate (half the gradient of ‖r̃‖²).</summary>
    Tensor Gradient { get; }
    /// <summary>r̃ and J̃ again at the same iterate, after the batch changed.</summary>
    void Relinearise();
    void SaveState(BinaryWriter w);
}
