using Pinn.Geometry;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>
/// A batch of collocation points in one region, redrawn on demand. The tensor lives across steps,
/// outside any per-step dispose scope, and is disposed when replaced.
/// </summary>
public class PointSet : IDisposable
{
    readonly Box _domain;
    readonly IPointSampler _sampler;

    public PointSet(Box domain, Region region, int count, IPointSampler sampler)
    {
        if (count <= 0) throw new PinnException($"batch size for {region} must be positive, got {count}");
        _domain = domain;
        Region = region;
        Count = count;
        _sampler = sampler;
    }

    public Region Region { get; }
    public int Count { get; }

    /// <summary>The current points, N×d, requiring grad (derivatives are taken with respect to them).</summary>
    public Tensor Points { get; private set; } = null!;

    public virtual void Resample(ScalarType dtype, Device device)
    {
        var raw = _domain.Sample(Region, Count, _sampler);
        Replace(ToLeaf(raw, dtype, device));
    }

    /// <summary>Advances the sampler by <paramref name="draws"/> batches without keeping them (to resume a run exactly).</summary>
    public void Skip(int draws)
    {
        for (int i = 0; i < draws; i++) _domain.Sample(Region, Count, _sampler);
    }

    protected void Replace(Tensor points)
    {
        Points?.Dispose();
        Points = points;
    }

    protected static Tensor ToLeaf(double[,] raw, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        var t = tensor(raw, dtype: ScalarType.Float64).to(dtype, device).detach().requires_grad_(true);
        return t.MoveToOuterDisposeScope();
    }

    public virtual void Dispose()
    {
        Points?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Matching points on the two opposite faces of a periodic axis: the same samples of the other
/// coordinates, once with the axis at its minimum (<see cref="PointSet.Points"/>) and once at its
/// maximum (<see cref="Partner"/>).
/// </summary>
public sealed class PeriodicPointSet(Box domain, string axis, int count, IPointSampler sampler)
    : PointSet(domain, Region.Side(axis, atMax: false), count, sampler)
{
    readonly Box _domain = domain;
    public Tensor Partner { get; private set; } = null!;

    public override void Resample(ScalarType dtype, Device device)
    {
        base.Resample(dtype, device);
        int j = _domain.IndexOf(Region.Axis!);
        double max = _domain.Axes[j].Max;
        using var scope = NewDisposeScope();
        var other = Points.detach().clone();
        other[TensorIndex.Colon, j] = tensor(max, dtype: dtype, device: device);
        Partner?.Dispose();
        Partner = other.requires_grad_(true).MoveToOuterDisposeScope();
    }

    public override void Dispose()
    {
        Partner?.Dispose();
        base.Dispose();
    }
}
