using Pinn.Problems;

namespace Pinn.References;

/// <summary>
/// The reference of a 1-D periodic problem with one field, by the ETDRK4 Fourier spectral solver: each
/// <see cref="Evaluate"/> builds the solver for the problem's current parameters, solves once from
/// <paramref name="u0"/> to every distinct time among the points (in ascending order), and
/// trigonometrically interpolates each point's x (points on grid nodes get the grid values exactly).
/// <paramref name="u0"/> is the state at the start of the problem's time range (t − t_min is integrated),
/// so a problem on t ∈ [0, T] is solved from t = 0. Nothing is cached between calls.
/// </summary>
/// <param name="solver">Builds the solver from the problem (e.g. from <see cref="Problem.ParameterValues"/>).</param>
/// <param name="u0">Initial condition u(x, t_min).</param>
/// <param name="dt">Largest time step (see <see cref="Etdrk4Solver.Solve"/>).</param>
/// <param name="description">What the reference is, for reports.</param>
/// <param name="x">Name of the periodic space coordinate.</param>
/// <param name="t">Name of the time coordinate.</param>
public sealed class SpectralReference(Func<Problem, Etdrk4Solver> solver, Func<double, double> u0, double dt, string description,
                                      string x = "x", string t = "t") : PointwiseReference
{
    public override string Description => description;

    public override double[,] Evaluate(Problem problem, double[,] points)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(points);
        if (problem.Fields.Count != 1)
            throw new PinnException($"spectral reference: problem '{problem.Name}' has {problem.Fields.Count} fields; the spectral solver gives one");
        var domain = problem.Domain;
        int ix = domain.IndexOf(x), it = domain.IndexOf(t), n = points.GetLength(0);
        if (points.GetLength(1) != domain.Dim)
            throw new PinnException($"spectral reference: points have {points.GetLength(1)} columns for {domain.Dim} coordinates");
        var values = new double[n, 1];
        if (n == 0) return values;
        var (elapsed, groups) = TimeGroups.Of(points, it, domain[t].Min, domain[t].Max, t, "spectral reference");
        var s = solver(problem);
        var solutions = s.Solve(u0, elapsed, dt);
        Parallel.For(0, groups.Length, g =>
        {
            var idx = groups[g];
            var interpolated = s.Interpolate(solutions[g], idx.Select(i => points[i, ix]).ToArray());
            for (int k = 0; k < idx.Count; k++) values[idx[k], 0] = interpolated[k];
        });
        return values;
    }
}
