using Pinn.Problems;

namespace Pinn.References;

/// <summary>
/// The reference of a 2-D nonlinear diffusion problem on a rectangle, by <see cref="NonlinearDiffusionSolver"/>: each
/// <see cref="Evaluate"/> builds the solver for the problem's current parameters, solves once from
/// <paramref name="u0"/> to every distinct time among the points (ascending), and interpolates each point's (x, y) by
/// tensor-product cubic Lagrange (points on grid nodes get the grid values exactly). Time t − t_min is integrated,
/// so a problem on t ∈ [0, T] is solved from t = 0. Nothing is cached between calls.
/// </summary>
/// <param name="solver">Builds the solver from the problem (its parameters and its rectangle).</param>
/// <param name="u0">Initial condition u(x, y, t_min).</param>
/// <param name="description">What the reference is, for reports.</param>
public sealed class NonlinearDiffusionReference(Func<Problem, NonlinearDiffusionSolver> solver, Func<double, double, double> u0,
                                                string description, string x = "x", string y = "y", string t = "t") : PointwiseReference
{
    public override string Description => description;

    public override double[,] Evaluate(Problem problem, double[,] points)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(points);
        if (problem.Fields.Count != 1)
            throw new PinnException($"nonlinear diffusion reference: problem '{problem.Name}' has {problem.Fields.Count} fields; the solver gives one");
        var domain = problem.Domain;
        if (points.GetLength(1) != domain.Dim)
            throw new PinnException($"nonlinear diffusion reference: points have {points.GetLength(1)} columns for {domain.Dim} coordinates");
        int ix = domain.IndexOf(x), iy = domain.IndexOf(y), it = domain.IndexOf(t), n = points.GetLength(0);
        var values = new double[n, 1];
        if (n == 0) return values;
        var (elapsed, groups) = TimeGroups.Of(points, it, domain[t].Min, domain[t].Max, t, "nonlinear diffusion reference");
        var s = solver(problem);
        var solutions = s.Solve(u0, elapsed);
        for (int g = 0; g < groups.Length; g++)
            foreach (int i in groups[g])
                values[i, 0] = s.Interpolate(solutions[g], points[i, ix], points[i, iy]);
        return values;
    }
}
