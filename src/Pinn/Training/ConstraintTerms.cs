using MathNet.Numerics.Integration;
using Pinn.Geometry;
using Pinn.Problems;
using Pinn.Symbolic;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>Points fixed for the whole run (quadrature nodes, observation sites): a leaf tensor that is never redrawn.</summary>
public sealed class FixedPoints : IDisposable
{
    public FixedPoints(double[,] raw, ScalarType dtype, Device device) => Points = PointSet.ToLeaf(raw, dtype, device);

    /// <summary>N × d, requiring grad (derivatives are taken with respect to them).</summary>
    public Tensor Points { get; }
    public long Count => Points.shape[0];
    public void Dispose() => Points.Dispose();
}

/// <summary>
/// An <see cref="IntegralCondition"/> as a loss term: the residual r_g = Σ_q w_q f(x_q) − v_g, one per node g of the coordinates
/// not integrated over (one in all for an integral over every coordinate), on a tensor-product Gauss–Legendre grid. The loss is
/// mean(r²); as Gauss–Newton residuals it is a single short block (<see cref="Optimizers.ResidualObjective"/> takes its rows
/// directly, the per-sample rows of the other terms are unaffected).
/// </summary>
public sealed class IntegralTerm : LossTerm, IDisposable
{
    readonly IntegralCondition _condition;
    readonly FixedPoints _nodes;
    readonly Tensor _weights, _known;
    readonly long[] _grid;
    readonly long[] _integrated;

    public IntegralTerm(IntegralCondition condition, Box domain, int nodes, double weight, ScalarType dtype, Device device)
        : base(condition.Name, "bc", weight)
    {
        _condition = condition;
        int d = domain.Dim;
        var rules = domain.Axes.Select(a => new GaussLegendreRule(a.Min, a.Max, nodes)).ToArray();
        var points = Box.Cartesian(rules.Select(r => r.Abscissas).ToArray());
        _nodes = new FixedPoints(points, dtype, device);
        _grid = Enumerable.Repeat((long)nodes, d).ToArray();
        _integrated = condition.Axes.Select(a => (long)domain.IndexOf(a)).ToArray();
        using var scope = NewDisposeScope();
        // The product of the integrated axes' weights as a grid tensor (size 1 along the other axes), divided by the measure for a mean.
        var w = ones(Enumerable.Repeat(1L, d).ToArray(), dtype: ScalarType.Float64);
        double measure = 1;
        foreach (var j in _integrated)
        {
            var shape = Enumerable.Repeat(1L, d).ToArray();
            shape[j] = nodes;
            w = w * tensor(rules[j].Weights, dtype: ScalarType.Float64).reshape(shape);
            measure *= domain.Axes[(int)j].Max - domain.Axes[(int)j].Min;
        }
        if (condition.Mean) w = w / measure;
        _weights = w.to(dtype, device).MoveToOuterDisposeScope();
        var known = condition.Known?.Invoke(points);
        if (known is not null && known.Length != points.GetLength(0))
            throw new PinnException($"condition '{condition.Name}': the known factor gave {known.Length} values at {points.GetLength(0)} quadrature nodes");
        _known = (known is null ? ones(1, dtype: ScalarType.Float64) : tensor(known, dtype: ScalarType.Float64)).to(dtype, device).MoveToOuterDisposeScope();
    }

    public IntegralCondition Condition => _condition;
    /// <summary>The quadrature nodes (N × d).</summary>
    public Tensor Nodes => _nodes.Points;

    /// <summary>r_g, one per node of the coordinates not integrated over.</summary>
    public Tensor Residual(StepContext ctx)
    {
        var ev = ctx.At(_nodes.Points);
        long q = _nodes.Count;
        var f = Rows(ev.Evaluate(_condition.Integrand), q).reshape(q) * _known;
        var v = Rows(ev.Evaluate(_condition.Value), q).reshape(q);
        var integral = (f.reshape(_grid) * _weights).sum(_integrated);
        var value = v.reshape(_grid).mean(_integrated);
        return (integral - value).reshape(-1);
    }

    public override Tensor Loss(StepContext ctx) => Residual(ctx).square().mean();
    public override Tensor? ScaledResiduals(StepContext ctx) => Scaled(Residual(ctx));

    public void Dispose()
    {
        _nodes.Dispose();
        _weights.Dispose();
        _known.Dispose();
    }
}

/// <summary>
/// An <see cref="ObservationCondition"/> as a loss term: mean over points and fields of (u_f(x_i) − d_if)², at fixed points.
/// As Gauss–Newton residuals it is one block per field, row i a function of point i (per-sample Jacobian rows).
/// </summary>
public sealed class ObservationTerm : LossTerm, IDisposable
{
    readonly ObservationCondition _condition;
    readonly FixedPoints _points;
    readonly Tensor _values;

    public ObservationTerm(ObservationCondition condition, double weight, ScalarType dtype, Device device) : base(condition.Name, "bc", weight)
    {
        _condition = condition;
        _points = new FixedPoints(condition.Points, dtype, device);
        using var scope = NewDisposeScope();
        _values = tensor(condition.Values, dtype: ScalarType.Float64).to(dtype, device).MoveToOuterDisposeScope();
    }

    public ObservationCondition Condition => _condition;
    public Tensor Points => _points.Points;

    IEnumerable<Tensor> Mismatches(StepContext ctx)
    {
        var ev = ctx.At(_points.Points);
        long n = _points.Count;
        for (int k = 0; k < _condition.Fields.Count; k++)
            yield return Rows(ev.Evaluate(Sym.Field(_condition.Fields[k])), n).reshape(n) - _values[TensorIndex.Colon, k];
    }

    public override Tensor Loss(StepContext ctx) => stack(Mismatches(ctx).ToList(), 1).square().mean();

    public override Tensor? ScaledResiduals(StepContext ctx) => cat(ScaledResidualBlocks(ctx)!.ToList(), 0);

    public override IReadOnlyList<Tensor>? ScaledResidualBlocks(StepContext ctx)
    {
        double scale = Math.Sqrt(Weight / ((double)_points.Count * _condition.Fields.Count));
        return Mismatches(ctx).Select(r => r * scale).ToList();
    }

    public void Dispose()
    {
        _points.Dispose();
        _values.Dispose();
    }
}
