using Pinn.Geometry;
using Pinn.Problems;
using Pinn.Symbolic;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>
/// The GP-HM objective (Fang et al. 2024, PAPERS.md §3):
/// <c>−log N(vec U | 0, ⊗K_j) − λ_b log N(g | u_b, τ⁻¹) − log N(0 | residual, v⁻¹)</c>: the prior is the model's
/// (<see cref="GridGpField.PriorLoss"/>), the rest are loss terms here, one likelihood term per residual equation and per
/// condition, each with its own learned precision. The residual
/// is the problem's own symbolic residual, evaluated at the grid nodes by <see cref="GridFieldProvider"/>.
/// </summary>
public static class GpLoss
{
    public static IReadOnlyList<LossTerm> Terms(GridGpField gp, Problem problem, TrainingOptions options)
    {
        if (problem.Parameters.Where(p => p.Trainable).Select(p => p.Name).ToList() is { Count: > 0 } trainable)
            throw new PinnException($"problem.parameters: trainable parameters ({string.Join(", ", trainable)}) " +
                                    "are not supported with the GP model yet; use a PINN or PIG model") { Key = "problem.parameters" };
        if (options.Causal.Enabled)
            throw new PinnException("training.causal: causal weighting applies to sampled PINN/PIG batches, not to the GP solver's grid") { Key = "training.causal" };
        if (options.Balancing.Kind != "none")
            throw new PinnException("training.balancing: the GP solver always weighs its likelihood terms by its own learned noise precisions (the precision weighting, held by the model); remove balancing") { Key = "training.balancing" };
        var masks = new GridMasks(gp.Axes, problem.Domain);
        var terms = new List<LossTerm>(); // the prior is not a term: GridGpField.PriorLoss

        var conditionNodes = new List<bool[]>();
        foreach (var c in problem.Conditions.OfType<PointwiseCondition>())
            if (c.Region.Kind != RegionKind.Interior) conditionNodes.Add(masks.Of(c.Region));
        var pdeNodes = masks.Complement(conditionNodes);
        foreach (var eq in problem.Equations)
            terms.Add(new GpLikelihoodTerm(gp, eq.Name, "pde", options.WeightFor(eq.Name, "pde"), eq.Equation.Residual,
                                           masks.Indices(pdeNodes, gp.Device)));
        foreach (var c in problem.Conditions)
        {
            string kind = c.Kind == ConditionKind.Initial ? "ic" : "bc";
            double weight = options.Weights.ContainsKey(c.Name) || options.Weights.ContainsKey(kind)
                ? options.WeightFor(c.Name, kind) : gp.Options.BoundaryWeight;
            terms.Add(c switch
            {
                PointwiseCondition pc => new GpLikelihoodTerm(gp, c.Name, kind, weight, pc.Equation.Residual,
                                                             masks.Indices(masks.Of(pc.Region), gp.Device)),
                PeriodicCondition per => new GpPeriodicTerm(gp, c.Name, weight, per.Matched,
                                                           masks.Indices(masks.Of(Region.Side(per.Axis, false)), gp.Device),
                                                           masks.Indices(masks.Of(Region.Side(per.Axis, true)), gp.Device)),
                _ => throw new PinnException($"GP: condition '{c.Name}' of kind {c.Kind} is not supported on a grid"),
            });
        }
        return terms;
    }

    /// <summary>
    /// The step's factorisation and full-grid evaluator, shared by the prior and every GP term of the step: made once per
    /// <see cref="StepContext"/> (one per step) and kept beside it, not in it, so the context knows nothing of the GP.
    /// </summary>
    internal static (GridStep Step, TensorEvaluator Eval) At(GridGpField gp, StepContext ctx) =>
        gp.StepCache.GetValue(ctx, c =>
        {
            var step = gp.Factorize();
            return new GridStepView(step, new TensorEvaluator(new GridFieldProvider(gp, step, c.Coordinates, c.Fields, c.Parameter)));
        }).Pair;

}

/// <summary>A residual (PDE or pointwise condition) at a set of grid nodes, with a learned noise precision.</summary>
public sealed class GpLikelihoodTerm(GridGpField gp, string name, string kind, double weight, Expr residual, Tensor nodes)
    : LossTerm(name, kind, weight)
{
    Tensor? _mse;
    public Expr Residual => residual;
    /// <summary>Flat indices of the grid nodes where the residual is enforced.</summary>
    public Tensor Nodes => nodes;

    public override Tensor Loss(StepContext ctx)
    {
        var (_, ev) = GpLoss.At(gp, ctx);
        var r = ev.Evaluate(residual).index_select(0, nodes);
        _mse = r.detach().square().mean();
        return gp.Precisions.NegativeLogLikelihood(Name, r);
    }

    public override IEnumerable<(string, double)> Diagnostics =>
        _mse is { IsInvalid: false } m ? [("mse_" + Name, m.ToDouble())] : [];
}

/// <summary>Matched expressions equal on the two faces of a periodic axis, with a learned noise precision.</summary>
public sealed class GpPeriodicTerm(GridGpField gp, string name, double weight, IReadOnlyList<Expr> matched, Tensor low, Tensor high)
    : LossTerm(name, "bc", weight)
{
    public IReadOnlyList<Expr> Matched => matched;
    public Tensor Low => low;
    public Tensor High => high;

    public override Tensor Loss(StepContext ctx)
    {
        var (_, ev) = GpLoss.At(gp, ctx);
        var r = cat(matched.Select(e => { var v = ev.Evaluate(e); return v.index_select(0, low) - v.index_select(0, high); }).ToList(), 0);
        return gp.Precisions.NegativeLogLikelihood(Name, r);
    }
}

/// <summary>One step's factorisation and evaluator, cached per <see cref="StepContext"/> (<see cref="GridGpField.StepCache"/>).</summary>
internal sealed record GridStepView(GridStep Step, TensorEvaluator Eval)
{
    public (GridStep, TensorEvaluator) Pair => (Step, Eval);
}

/// <summary>Which grid nodes (row-major, last axis fastest) lie in a region.</summary>
internal sealed class GridMasks(IReadOnlyList<GridAxis> axes, Box domain)
{
    readonly int[] _counts = axes.Select(a => a.Count).ToArray();
    readonly long _total = axes.Aggregate(1L, (acc, a) => acc * a.Count);

    public bool[] Of(Region region)
    {
        var mask = new bool[_total];
        var idx = new int[_counts.Length];
        int time = domain.TimeAxis is null ? -1 : domain.IndexOf(domain.TimeAxis);
        int side = region.Axis is null ? -1 : domain.IndexOf(region.Axis);
        for (long i = 0; i < _total; i++)
        {
            long rem = i;
            for (int j = _counts.Length - 1; j >= 0; j--) { idx[j] = (int)(rem % _counts[j]); rem /= _counts[j]; }
            mask[i] = region.Kind switch
            {
                RegionKind.Interior => true,
                RegionKind.Initial => time >= 0 && idx[time] == 0,
                RegionKind.Side => idx[side] == (region.AtMax ? _counts[side] - 1 : 0),
                RegionKind.Boundary => Enumerable.Range(0, _counts.Length).Any(j => j != time && (idx[j] == 0 || idx[j] == _counts[j] - 1)),
                _ => false,
            };
        }
        return mask;
    }

    /// <summary>Nodes in none of <paramref name="masks"/>: where the PDE residual is enforced.</summary>
    public bool[] Complement(IReadOnlyList<bool[]> masks)
    {
        var free = new bool[_total];
        for (long i = 0; i < _total; i++) free[i] = !masks.Any(m => m[i]);
        return free;
    }

    public Tensor Indices(bool[] mask, Device device)
    {
        var list = new List<long>();
        for (long i = 0; i < mask.LongLength; i++) if (mask[i]) list.Add(i);
        if (list.Count == 0) throw new PinnException("GP: a loss term has no grid nodes (is the grid too small?)") { Key = "model.grid" };
        return tensor(list.ToArray(), dtype: ScalarType.Int64, device: device);
    }
}
