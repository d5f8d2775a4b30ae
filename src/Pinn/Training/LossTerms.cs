using Pinn.Symbolic;
using TorchSharp;
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

    /// <summary>Called after each optimiser step (causal ε annealing).</summary>
    public virtual void AfterStep() { }

    /// <summary>Values worth logging beside the loss (causal ε and min w).</summary>
    public virtual IEnumerable<(string Name, double Value)> Diagnostics => [];

    /// <summary>The point set this term's residuals live on (residual-based resampling redraws it); null: none.</summary>
    public virtual PointSet? ResidualSet => null;

    /// <summary>
    /// Σ over this term's residual components of r² at each of <paramref name="points"/> (N points of <see cref="ResidualSet"/>'s
    /// region), as a vector of N: what residual-based resampling weighs candidates by. Null when the term has none.
    /// </summary>
    public virtual Tensor? PointwiseSquares(StepContext ctx, Tensor points) => null;

    /// <summary>
    /// The term as a scaled residual vector r̃ (1-D) with <c>Weight · Loss(ctx) = ‖r̃‖²</c> exactly: what the Gauss–Newton
    /// optimisers (<see cref="Optimizers.LevenbergMarquardt"/>) ask for. Null when the term's loss is not a weighted
    /// mean of squares (causal weighting), which those optimisers then refuse by name.
    /// </summary>
    public virtual Tensor? ScaledResiduals(StepContext ctx) => null;

    /// <summary>Why <see cref="ScaledResiduals"/> is null and what to do instead, for the refusal message (a term that has residuals never shows it).</summary>
    public virtual string NoResidualsReason => "causal weighting? turn it off or use ssbroyden";

    /// <summary>
    /// <see cref="ScaledResiduals"/> as consecutive blocks (their concatenation is that vector) in which row i, when a block
    /// has as many rows as the term has points, is a function of point i alone (of each point set the term reads, paired by
    /// index): what the per-sample Jacobian of <see cref="Optimizers.ResidualObjective"/> relies on. Default: the vector as
    /// one block (several components per point interleave, so the row count differs and the generic Jacobian is taken).
    /// </summary>
    public virtual IReadOnlyList<Tensor>? ScaledResidualBlocks(StepContext ctx) => ScaledResiduals(ctx) is { } r ? [r] : null;

    /// <summary>√(Weight / n) · r over the n entries of <paramref name="r"/>: ‖result‖² = Weight · mean(r²).</summary>
    protected Tensor Scaled(Tensor r)
    {
        var flat = r.reshape(-1);
        return flat * Math.Sqrt(Weight / flat.shape[0]);
    }

    /// <summary>A residual evaluated at n points as n rows (a constant residual, which mean() counts once, is broadcast: same mean).</summary>
    protected static Tensor Rows(Tensor r, long n) => r.numel() == 1 ? r.reshape(1).expand(n) : r.reshape(n, -1);

    /// <summary>r² of a residual evaluated at n points, as n values (a constant residual is broadcast).</summary>
    protected static Tensor PerPoint(Tensor r, long n)
    {
        var sq = r.square();
        return sq.numel() == 1 ? sq.reshape(1).expand(n) : sq.reshape(n, -1).sum(1);
    }
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

    public override PointSet? ResidualSet => Points;
    public override Tensor? PointwiseSquares(StepContext ctx, Tensor points) => PerPoint(ctx.At(points).Evaluate(Residual), points.shape[0]);

    public override Tensor? ScaledResiduals(StepContext ctx) =>
        Reduction is MeanSquare ? Scaled(Rows(ctx.At(Points.Points).Evaluate(Residual), Points.Points.shape[0])) : null;
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

    public override PointSet? ResidualSet => Points;
    public override Tensor? PointwiseSquares(StepContext ctx, Tensor points)
    {
        var partner = Points.PartnerOf(points.detach()).requires_grad_(points.requires_grad);
        var lo = ctx.At(points);
        var hi = ctx.At(partner);
        return matched.Select(e => PerPoint(lo.Evaluate(e) - hi.Evaluate(e), points.shape[0])).Aggregate((a, b) => a + b);
    }

    public override Tensor? ScaledResiduals(StepContext ctx) => cat(ScaledResidualBlocks(ctx)!.ToList(), 0);

    /// <summary>One block per matched expression: row i is the mismatch between point i and its partner.</summary>
    public override IReadOnlyList<Tensor>? ScaledResidualBlocks(StepContext ctx)
    {
        var lo = ctx.At(Points.Points);
        var hi = ctx.At(Points.Partner);
        long n = Points.Points.shape[0];
        return matched.Select(e => Scaled(Rows(lo.Evaluate(e) - hi.Evaluate(e), n))).ToList();
    }
}

/// <summary>
/// Every residual equation of a time-dependent problem on one interior batch, reduced with causal
/// weights (<see cref="CausalWeighting"/>); optionally the initial-condition loss seeds the cumulative sums.
/// </summary>
public sealed class CausalResidualTerm(IReadOnlyList<Expr> residuals, PointSet points, int timeColumn, CausalWeighting causal,
                                       IReadOnlyList<ResidualTerm> initial, double weight) : LossTerm("pde", "pde", weight)
{
    public CausalWeighting Causal => causal;
    public PointSet Points => points;
    public IReadOnlyList<Expr> Residuals => residuals;
    /// <summary>The initial-condition terms evaluated inside this one when the causal weights include them.</summary>
    public IReadOnlyList<ResidualTerm> Initial => causal.Options.IncludeInitial ? initial : [];

    public override Tensor Loss(StepContext ctx)
    {
        var ev = ctx.At(points.Points);
        var t = points.Points[TensorIndex.Colon, timeColumn];
        var chunks = residuals.Select(r => CausalWeighting.ChunkLosses(ev.Evaluate(r), t, causal.Options.Chunks)).ToList();
        Tensor? ic = null;
        if (causal.Options.IncludeInitial)
            foreach (var term in initial)
            {
                var l = term.Weight * term.Loss(ctx);
                ic = ic is null ? l : ic + l;
            }
        return causal.Loss(chunks, ic);
    }

    public override void AfterStep() => causal.AfterStep();

    public override PointSet? ResidualSet => points;
    public override Tensor? PointwiseSquares(StepContext ctx, Tensor at)
    {
        var ev = ctx.At(at);
        return residuals.Select(r => PerPoint(ev.Evaluate(r), at.shape[0])).Aggregate((a, b) => a + b);
    }

    public override IEnumerable<(string, double)> Diagnostics => [("causal_eps", causal.Epsilon), ("causal_min_w", causal.MinWeight)];
}

/// <summary>Mean squared mismatch of every field against given values at the points (time marching's initial data).</summary>
public sealed class DataTerm(string name, string kind, double weight, PointSet points, Func<Tensor, Tensor> target)
    : LossTerm(name, kind, weight)
{
    public PointSet Points => points;

    public override Tensor Loss(StepContext ctx)
    {
        var predicted = ctx.Model.Forward(points.Points);
        return (predicted - target(points.Points)).square().mean();
    }

    public override PointSet? ResidualSet => points;
    public override Tensor? PointwiseSquares(StepContext ctx, Tensor at) => PerPoint(ctx.Model.Forward(at) - target(at), at.shape[0]);

    public override Tensor? ScaledResiduals(StepContext ctx) => Scaled(ctx.Model.Forward(points.Points) - target(points.Points));
}
