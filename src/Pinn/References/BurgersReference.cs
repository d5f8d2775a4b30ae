using Pinn.Problems;

namespace Pinn.References;

/// <summary>
/// Viscous Burgers u_t + u u_x = ν u_xx on [−1,1] with u0 = −sin(πx) and u(±1,t) = 0, by the exact
/// Cole–Hopf solution (<see cref="BurgersColeHopf"/>); ν is read from the problem's parameter table.
/// </summary>
public sealed class BurgersReference(string nuParameter = "nu", string x = "x", string t = "t") : PointwiseReference
{
    public override string Description => "Cole–Hopf exact solution (quadrature, ≤1e-6 relative L2)";

    public override double[,] Evaluate(Problem problem, double[,] points)
    {
        if (!problem.ReferenceParameterValues.TryGetValue(nuParameter, out var nu))
            throw new PinnException($"problem '{problem.Name}': the Burgers reference needs a parameter '{nuParameter}'");
        int ix = problem.Domain.IndexOf(x), it = problem.Domain.IndexOf(t), n = points.GetLength(0);
        var xs = new double[n];
        var ts = new double[n];
        for (int i = 0; i < n; i++) { xs[i] = points[i, ix]; ts[i] = points[i, it]; }
        var u = new BurgersColeHopf(nu).Evaluate(xs, ts);
        var values = new double[n, 1];
        for (int i = 0; i < n; i++) values[i, 0] = u[i];
        return values;
    }
}
