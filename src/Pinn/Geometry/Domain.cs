namespace Pinn.Geometry;

/// <summary>One coordinate axis of a domain and its closed range.</summary>
public sealed record Axis(string Name, double Min, double Max)
{
    public double Length => Max - Min;
}

/// <summary>
/// An axis-aligned box in named coordinates, optionally with one axis marked as time. Intervals,
/// rectangles, boxes and space × time are all this shape; the subclasses only name the common cases.
/// Points are row-major n×d arrays with columns in <see cref="Axes"/> order.
/// </summary>
public class Box
{
    public Box(IEnumerable<Axis> axes, string? timeAxis = null)
    {
        Axes = axes.ToArray();
        if (Axes.Count == 0) throw new PinnException("a domain needs at least one coordinate");
        foreach (var a in Axes)
            if (!(a.Max > a.Min) || !double.IsFinite(a.Min) || !double.IsFinite(a.Max))
                throw new PinnException($"coordinate '{a.Name}': the range [{a.Min}, {a.Max}] is empty or not finite");
        var dup = Axes.GroupBy(a => a.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new PinnException($"coordinate '{dup.Key}' is declared twice");
        if (timeAxis is not null && Axes.All(a => a.Name != timeAxis))
            throw new PinnException($"time coordinate '{timeAxis}' is not one of the coordinates");
        TimeAxis = timeAxis;
    }

    public IReadOnlyList<Axis> Axes { get; }
    public string? TimeAxis { get; }
    public int Dim => Axes.Count;
    public bool IsTimeDependent => TimeAxis is not null;
    public IEnumerable<Axis> SpatialAxes => Axes.Where(a => a.Name != TimeAxis);
    public IReadOnlyList<string> CoordinateNames => Axes.Select(a => a.Name).ToArray();

    public int IndexOf(string axis)
    {
        for (int i = 0; i < Axes.Count; i++) if (Axes[i].Name == axis) return i;
        throw new PinnException($"unknown coordinate '{axis}' (coordinates: {string.Join(", ", CoordinateNames)})");
    }

    public Axis this[string axis] => Axes[IndexOf(axis)];

    /// <summary>The sides of the spatial boundary, e.g. x_min, x_max, y_min, y_max.</summary>
    public IEnumerable<Region> BoundarySides =>
        SpatialAxes.SelectMany(a => new[] { Region.Side(a.Name, atMax: false), Region.Side(a.Name, atMax: true) });

    /// <summary>
    /// n points in <paramref name="region"/>: unit-cube samples from <paramref name="sampler"/> mapped
    /// onto the region's free axes, the fixed axis set to its face value. The whole boundary is split
    /// evenly between its sides.
    /// </summary>
    public double[,] Sample(Region region, int n, IPointSampler sampler)
    {
        switch (region.Kind)
        {
            case RegionKind.Interior:
                return MapUnit(sampler.Sample(n, Dim), fixedAxis: -1, fixedValue: 0);
            case RegionKind.Initial:
                if (TimeAxis is null) throw new PinnException("an initial condition needs a time coordinate");
                return Face(IndexOf(TimeAxis), this[TimeAxis].Min, n, sampler);
            case RegionKind.Side:
                var ax = IndexOf(region.Axis!);
                return Face(ax, region.AtMax ? Axes[ax].Max : Axes[ax].Min, n, sampler);
            case RegionKind.Boundary:
                var sides = BoundarySides.ToArray();
                if (sides.Length == 0) throw new PinnException("the domain has no spatial boundary");
                var parts = sides.Select((s, i) => Sample(s, n / sides.Length + (i < n % sides.Length ? 1 : 0), sampler)).ToArray();
                return Stack(parts);
            default:
                throw new ArgumentOutOfRangeException(nameof(region));
        }
    }

    double[,] Face(int axis, double value, int n, IPointSampler sampler)
    {
        if (Dim == 1)
        {
            var p = new double[n, 1];
            for (int i = 0; i < n; i++) p[i, 0] = value;
            return p;
        }
        return MapUnit(sampler.Sample(n, Dim - 1), axis, value);
    }

    /// <summary>Maps unit-cube samples onto the box; when <paramref name="fixedAxis"/> ≥ 0 the samples have d−1 columns and that axis is set to <paramref name="fixedValue"/>.</summary>
    double[,] MapUnit(double[,] unit, int fixedAxis, double fixedValue)
    {
        int n = unit.GetLength(0);
        var p = new double[n, Dim];
        for (int i = 0; i < n; i++)
        {
            int k = 0;
            for (int j = 0; j < Dim; j++)
                p[i, j] = j == fixedAxis ? fixedValue : Axes[j].Min + Axes[j].Length * unit[i, k++];
        }
        return p;
    }

    /// <summary>A regular grid including the end points, <paramref name="counts"/>[j] points along axis j; the last axis varies fastest.</summary>
    public double[,] Grid(IReadOnlyList<int> counts)
    {
        if (counts.Count != Dim) throw new PinnException($"a grid needs {Dim} point counts, got {counts.Count}");
        var axes = Axes.Select((a, j) => Linspace(a.Min, a.Max, counts[j])).ToArray();
        return Cartesian(axes);
    }

    public static double[] Linspace(double a, double b, int n)
    {
        if (n < 1) throw new PinnException($"a grid axis needs at least 1 point, got {n}");
        if (n == 1) return [(a + b) / 2];
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = a + (b - a) * i / (n - 1);
        v[n - 1] = b;
        return v;
    }

    /// <summary>All combinations of the per-axis values, row-major (last axis fastest).</summary>
    public static double[,] Cartesian(IReadOnlyList<double[]> axes)
    {
        long total = axes.Aggregate(1L, (acc, a) => acc * a.Length);
        var p = new double[total, axes.Count];
        for (long i = 0; i < total; i++)
        {
            long rem = i;
            for (int j = axes.Count - 1; j >= 0; j--)
            {
                p[i, j] = axes[j][rem % axes[j].Length];
                rem /= axes[j].Length;
            }
        }
        return p;
    }

    public static double[,] Stack(IReadOnlyList<double[,]> parts)
    {
        int n = parts.Sum(p => p.GetLength(0)), d = parts[0].GetLength(1), r = 0;
        var all = new double[n, d];
        foreach (var p in parts)
            for (int i = 0; i < p.GetLength(0); i++, r++)
                for (int j = 0; j < d; j++) all[r, j] = p[i, j];
        return all;
    }

    public override string ToString()
    {
        var s = string.Join(" × ", SpatialAxes.Select(a => $"{a.Name} ∈ [{a.Min:G6}, {a.Max:G6}]"));
        return TimeAxis is null ? s : $"{s}, {TimeAxis} ∈ [{this[TimeAxis].Min:G6}, {this[TimeAxis].Max:G6}]";
    }
}

public sealed class Interval(string name, double min, double max) : Box([new Axis(name, min, max)]);

public sealed class Rectangle(Axis x, Axis y) : Box([x, y]);

/// <summary>A spatial box × a time interval; time is the last coordinate.</summary>
public sealed class SpaceTime(Box space, Axis time) : Box(space.Axes.Append(time), time.Name);

public enum RegionKind { Interior, Boundary, Side, Initial }

/// <summary>Where a condition holds: the interior, the whole spatial boundary, one side, or the initial slice.</summary>
public sealed record Region(RegionKind Kind, string? Axis = null, bool AtMax = false)
{
    public static readonly Region Interior = new(RegionKind.Interior);
    public static readonly Region Boundary = new(RegionKind.Boundary);
    public static readonly Region Initial = new(RegionKind.Initial);
    public static Region Side(string axis, bool atMax) => new(RegionKind.Side, axis, atMax);

    /// <summary>Parses "interior", "boundary", "initial", "x_min", "x_max" (also "x=min").</summary>
    public static Region Parse(string text, Box domain)
    {
        var s = text.Trim();
        switch (s)
        {
            case "interior": return Interior;
            case "boundary": return Boundary;
            case "initial": return Initial;
        }
        foreach (var sep in new[] { "_", "=" })
        {
            int k = s.LastIndexOf(sep, StringComparison.Ordinal);
            if (k <= 0) continue;
            var axis = s[..k];
            var end = s[(k + 1)..];
            if ((end == "min" || end == "max") && domain.CoordinateNames.Contains(axis))
                return Side(axis, end == "max");
        }
        var sides = string.Join(", ", domain.BoundarySides.Select(r => r.ToString()));
        throw new PinnException($"unknown region '{text}' (use interior, boundary, initial, or a side: {sides})");
    }

    public override string ToString() => Kind switch
    {
        RegionKind.Side => $"{Axis}_{(AtMax ? "max" : "min")}",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
