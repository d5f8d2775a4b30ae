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

    public void Resample(ScalarType dtype, Device device) => Assign(_domain.Sample(Region, Count, _sampler), dtype, device);

    /// <summary><paramref name="n"/> points of this set's region drawn with <paramref name="sampler"/> (candidates for residual-based resampling).</summary>
    public double[,] SampleRegion(int n, IPointSampler sampler) => _domain.Sample(Region, n, sampler);

    /// <summary>Makes <paramref name="raw"/> (Count × d) the current points.</summary>
    public virtual void Assign(double[,] raw, ScalarType dtype, Device device)
    {
        if (raw.GetLength(0) != Count) throw new PinnException($"{Region}: {raw.GetLength(0)} points given for a batch of {Count}");
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

    /// <summary><paramref name="raw"/> as a leaf tensor requiring grad, outside the caller's dispose scope.</summary>
    internal static Tensor ToLeaf(double[,] raw, ScalarType dtype, Device device)
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

    public override void Assign(double[,] raw, ScalarType dtype, Device device)
    {
        base.Assign(raw, dtype, device);
        using var scope = NewDisposeScope();
        var other = PartnerOf(Points.detach());
        Partner?.Dispose();
        Partner = other.requires_grad_(true).MoveToOuterDisposeScope();
    }

    /// <summary>The points on the opposite face matching <paramref name="points"/> (a copy, the axis set to its maximum).</summary>
    public Tensor PartnerOf(Tensor points)
    {
        int j = _domain.IndexOf(Region.Axis!);
        var other = points.clone();
        other[TensorIndex.Colon, j] = tensor(_domain.Axes[j].Max, dtype: points.dtype, device: points.device);
        return other;
    }

    public override void Dispose()
    {
        Partner?.Dispose();
        base.Dispose();
    }
}
