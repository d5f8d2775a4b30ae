using TorchSharp;
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

/// <summary>What the Gauss–Newton-type optimisers share: one linearisation, and the framing of their checkpoint state.</summary>
static class GaussNewtonState
{
    /// <summary>r̃(x), J(x) and ‖r̃‖², detached from the caller's scopes (one residual evaluation and one Jacobian).</summary>
    public static (Tensor R, Tensor J, double Value) Linearise(IResidualObjective objective, Tensor x)
    {
        using var scope = NewDisposeScope();
        var (r, j) = objective.Evaluate(x, jacobian: true);
        double value = r.square().sum().ToDouble();
        return (r.DetachFromDisposeScope(), j!.DetachFromDisposeScope(), value);
    }

    /// <summary>The tag of the state, then x (its length, then its doubles).</summary>
    public static void WriteIterate(BinaryWriter w, string magic, Tensor x)
    {
        w.Write(magic);
        var values = x.cpu().contiguous().data<double>().ToArray();
        w.Write(values.Length);
        foreach (var v in values) w.Write(v);
    }

    /// <summary>x written by <see cref="WriteIterate"/>, after checking the tag and the parameter count.</summary>
    public static double[] ReadIterate(BinaryReader r, string magic, long count, string method)
    {
        if (r.ReadString() != magic) throw new PinnException($"the checkpoint's phase state is not a {method} state");
        int n = r.ReadInt32();
        if (n != count) throw new PinnException($"the checkpoint's {method} state has {n} parameters, the model {count}");
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = r.ReadDouble();
        return x;
    }

    public static void WriteCounters(BinaryWriter w, int iterations, int evaluations, int jacobians, int rejections, double initialValue)
    {
        w.Write(iterations);
        w.Write(evaluations);
        w.Write(jacobians);
        w.Write(rejections);
        w.Write(initialValue);
    }

    public static (int Iterations, int Evaluations, int Jacobians, int Rejections, double InitialValue) ReadCounters(BinaryReader r) =>
        (r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadDouble());
}
