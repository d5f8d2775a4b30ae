using MathNet.Numerics.Distributions;
using Pinn.Geometry;
using Pinn.Problems;

namespace Pinn.References;

/// <summary>Observations for a data term: drawn from a data file or a reference, optionally subsampled and with added noise.</summary>
public static class Observations
{
    /// <summary>
    /// <paramref name="points"/> of the <paramref name="available"/> samples (all when null), chosen without repetition by
    /// <paramref name="seed"/>, and Gaussian noise of standard deviation <paramref name="noise"/> × (the field's standard deviation
    /// over all samples) added to each value, from the same seed. Returns the points, the values (columns <paramref name="fields"/>)
    /// and a one-line account of what was drawn.
    /// </summary>
    public static (double[,] Points, double[,] Values, string Account) Draw(ReferenceSolution available, IReadOnlyList<string> fields,
                                                                            int? points, double noise, int seed, string source)
    {
        int total = available.Count, d = available.Coordinates.Count;
        if (points is { } p && (p < 1 || p > total))
            throw new PinnException($"{source}: {p} observation points asked for, the data has {total}");
        if (!(noise >= 0) || !double.IsFinite(noise)) throw new PinnException($"{source}: noise {noise} must be a non-negative number (relative to each field's standard deviation)");
        var columns = fields.Select(f => available.Fields.ToList().IndexOf(f) is var k and >= 0 ? k
                                            : throw new PinnException($"{source}: no values for field '{f}' (it has {string.Join(", ", available.Fields)})")).ToArray();
        var rng = new Random(seed);
        var order = Enumerable.Range(0, total).ToArray();
        int n = points ?? total;
        for (int i = 0; i < n && points is not null; i++) // partial Fisher–Yates: the first n are a uniform sample
        {
            int j = rng.Next(i, total);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var xs = new double[n, d];
        var vs = new double[n, fields.Count];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) xs[i, j] = available.Points[order[i], j];
            for (int k = 0; k < fields.Count; k++) vs[i, k] = available.Values[order[i], columns[k]];
        }
        if (noise > 0)
        {
            var normal = new Normal(0, 1, rng);
            for (int k = 0; k < fields.Count; k++)
            {
                var all = available.FieldValues(columns[k]);
                double sd = MathNet.Numerics.Statistics.Statistics.PopulationStandardDeviation(all);
                for (int i = 0; i < n; i++) vs[i, k] += noise * sd * normal.Sample();
            }
        }
        string account = $"{source} ({(points is null ? $"all {total}" : $"{n} of {total}")} points" +
                         (noise > 0 ? $", noise {noise:G3} × std" : "") + ")";
        return (xs, vs, account);
    }

    /// <summary>
    /// <paramref name="count"/> uniform random points of the domain (by <paramref name="seed"/>) with <paramref name="reference"/>'s
    /// values there: synthetic observations from an exact solution or a classical solver.
    /// </summary>
    public static ReferenceSolution Sampled(PointwiseReference reference, Problem problem, int count, int seed)
    {
        var pts = problem.Domain.Sample(Region.Interior, count, new UniformSampler(seed));
        return new ReferenceSolution(problem.Domain.CoordinateNames, pts, problem.Fields, reference.Evaluate(problem, pts));
    }
}
