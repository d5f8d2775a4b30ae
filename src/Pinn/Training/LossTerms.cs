using Pinn.Symbolic;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>One weighted term of the loss: Σ_k λ_k · L_k.</summary>
public abstract class LossTerm(string name, string kind, double weight)
{
    public string Name { get; } = name;
    /// <summary>pde, ic or bc: the key batch sizes and weights fall back to.</summary>
    public string Kind { get; } = kind;
    public double Weight { get; set; } = weight;

    public abstract Tensor Loss(StepContext ctx);
}

/// <summary>
/// How a residual vector becomes a scalar loss. Mean square by default; causal weighting
/// (time-chunked, stop-gradient weights) plugs in here for time-dependent residuals.
/// </summary>
public interface IResidualReduction
{
    Tensor Reduce(Tensor residual, Tensor points);
}

public sealed class MeanSquare : IResidualReduction
{
    public static readonly MeanSquare Instance = new();
    public Tensor Reduce(Tensor residual, Tensor points) => residual.square().mean();
}

/// <summary>A residual (PDE or condition) at the points of one <see cref="PointSet"/>.</summary>
public sealed class ResidualTerm(string name, string kind, double weight, Expr residual, PointSet points,
                                 IResidualReduction? reduction = null) : LossTerm(name, kind, weight)
{
    public Expr Residual { get; } = residual;
    public PointSet Points { get; } = points;
    public IResidualReduction Reduction { get; } = reduction ?? MeanSquare.Instance;

    public override Tensor Loss(StepContext ctx) =>
        Reduction.Reduce(ctx.At(Points.Points).Evaluate(Residual), Points.Points);
}

/// <summary>Mean squared mismatch of each matched expression between the two faces of a periodic axis.</summary>
public sealed class PeriodicTerm(string name, double weight, IReadOnlyList<Expr> matched, PeriodicPointSet points)
    : LossTerm(name, "bc", weight)
{
    public PeriodicPointSet Points { get; } = points;

    public override Tensor Loss(StepContext ctx)
    {
        var lo = ctx.At(Points.Points);
        var hi = ctx.At(Points.Partner);
        return matched.Select(e => (lo.Evaluate(e) - hi.Evaluate(e)).square().mean()).Aggregate((a, b) => a + b);
    }
}
