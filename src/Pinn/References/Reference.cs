using Pinn.Geometry;
using Pinn.Problems;

namespace Pinn.References;

/// <summary>
/// Reference values of every field at a set of points. When the points form a tensor grid,
/// <see cref="GridAxes"/> holds the per-axis coordinates (points = their Cartesian product, last axis fastest).
/// </summary>
public sealed class ReferenceSolution
{
    public ReferenceSolution(IReadOnlyList<string> coordinates, double[,] points, IReadOnlyList<string> fields,
                             double[,] values, IReadOnlyList<double[]>? gridAxes = null)
    {
        if (points.GetLength(1) != coordinates.Count)
            throw new PinnException($"reference: points have {points.GetLength(1)} columns for {coordinates.Count} coordinates");
        if (values.GetLength(0) != points.GetLength(0) || values.GetLength(1) != fields.Count)
            throw new PinnException($"reference: values are {values.GetLength(0)}×{values.GetLength(1)}, expected {points.GetLength(0)}×{fields.Count}");
        Coordinates = coordinates;
        Points = points;
        Fields = fields;
        Values = values;
        GridAxes = gridAxes;
    }

    public IReadOnlyList<string> Coordinates { get; }
    public double[,] Points { get; }
    public IReadOnlyList<string> Fields { get; }
    public double[,] Values { get; }
    public IReadOnlyList<double[]>? GridAxes { get; }
    public int Count => Points.GetLength(0);

    /// <summary>Array shape of a field: the grid's [n_1, …, n_d], or [n] for scattered points.</summary>
    public int[] Shape => GridAxes?.Select(a => a.Length).ToArray() ?? [Count];

    /// <summary>Coordinate j as stored next to the fields: the grid axis, or the point column when scattered.</summary>
    public double[] AxisValues(int j) => GridAxes?[j] ?? Enumerable.Range(0, Count).Select(i => Points[i, j]).ToArray();

    public double[] FieldValues(int field)
    {
        var v = new double[Count];
        for (int i = 0; i < Count; i++) v[i] = Values[i, field];
        return v;
    }
}

/// <summary>Where a run's error is measured against: an exact solution, a classical solver, a data file.</summary>
public interface IReference
{
    string Description { get; }

    /// <summary>
    /// Reference values for <paramref name="problem"/>'s fields. Pointwise references evaluate on a
    /// regular grid with <paramref name="gridCounts"/> points per axis; data files use their own points.
    /// </summary>
    ReferenceSolution Solve(Problem problem, IReadOnlyList<int> gridCounts);
}

/// <summary>A reference that can be evaluated at any point (analytic, or a classical solver's formula).</summary>
public abstract class PointwiseReference : IReference
{
    public abstract string Description { get; }

    /// <summary>Values (n×fields) at <paramref name="points"/> (n×d, columns in domain axis order).</summary>
    public abstract double[,] Evaluate(Problem problem, double[,] points);

    public ReferenceSolution Solve(Problem problem, IReadOnlyList<int> gridCounts)
    {
        var domain = problem.Domain;
        if (gridCounts.Count != domain.Dim)
            throw new PinnException($"evaluation grid: {gridCounts.Count} point counts for {domain.Dim} coordinates ({string.Join(", ", domain.CoordinateNames)})");
        var axes = domain.Axes.Select((a, j) => Box.Linspace(a.Min, a.Max, gridCounts[j])).ToArray();
        var points = Box.Cartesian(axes);
        return new ReferenceSolution(domain.CoordinateNames, points, problem.Fields, Evaluate(problem, points), axes);
    }
}

/// <summary>Points grouped by their time coordinate, for time-stepping references that solve once to every distinct time.</summary>
public static class TimeGroups
{
    /// <summary>
    /// Distinct times (ascending, as elapsed time from <paramref name="t0"/>) and the point indices at each;
    /// a time before <paramref name="t0"/> (beyond rounding) or not finite is an error naming <paramref name="what"/>.
    /// </summary>
    public static (double[] Elapsed, List<int>[] Points) Of(double[,] points, int timeColumn, double t0, double tMax, string timeName, string what)
    {
        double slack = 1e-12 * Math.Max(1, Math.Abs(tMax - t0));
        var byTime = new SortedDictionary<double, List<int>>();
        for (int i = 0; i < points.GetLength(0); i++)
        {
            double ti = points[i, timeColumn];
            if (!double.IsFinite(ti) || ti < t0 - slack)
                throw new PinnException($"{what}: a point at {timeName} = {ti} is before the initial time {t0} or not finite");
            if (!byTime.TryGetValue(ti, out var list)) byTime[ti] = list = [];
            list.Add(i);
        }
        return (byTime.Keys.Select(ti => Math.Max(0, ti - t0)).ToArray(), byTime.Values.ToArray());
    }
}
