using Pinn.Problems;

namespace Pinn.References;

/// <summary>
/// A 1-D periodic problem's reference by the ETDRK4 spectral solver: one solve to every distinct
/// time among the points, then trigonometric interpolation in x (exact at grid nodes).
/// </summary>
public sealed class SpectralReference(Func<Problem, Etdrk4Solver> solver, Func<double, double> u0, double dt, string description,
                                      string x = "x", string t = "t") : PointwiseReference
{
    public override string Description => description;

    public override double[,] Evaluate(Problem problem, double[,] points)
    {
        int ix = problem.Domain.IndexOf(x), it = problem.Domain.IndexOf(t), n = points.GetLength(0);
        var times = Enumerable.Range(0, n).Select(i => points[i, it]).Distinct().Order().ToArray();
        var s = solver(problem);
        var solutions = s.Solve(u0, times, dt);
        var hats = solutions.Select(s.Forward).ToArray();
        var index = times.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
        var values = new double[n, 1];
        Parallel.For(0, n, i => values[i, 0] = s.Interpolate(hats[index[points[i, it]]], points[i, ix]));
        return values;
    }
}
