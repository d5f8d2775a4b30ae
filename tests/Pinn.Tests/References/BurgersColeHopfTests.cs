using Pinn.References;

namespace Pinn.Tests.References;

public class BurgersColeHopfTests
{
    private static readonly double Nu = 0.01 / Math.PI;

    /// <summary>The 256×100 grid the reference is used on: x = linspace(−1,1,256), t = linspace(0,1,100).</summary>
    private static (double[] X, double[] T) StandardGrid()
    {
        const int nx = 256, nt = 100;
        var x = new double[nx * nt];
        var t = new double[nx * nt];
        for (int j = 0; j < nt; j++)
            for (int i = 0; i < nx; i++)
            {
                x[j * nx + i] = -1.0 + 2.0 * i / (nx - 1);
                t[j * nx + i] = (double)j / (nt - 1);
            }
        return (x, t);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(-0.7)]
    [InlineData(-0.25)]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void At_t0_returns_the_initial_condition_and_is_continuous_in_time(double x)
    {
        var solver = new BurgersColeHopf();
        solver.Evaluate(x, 0.0).Should().BeApproximately(-Math.Sin(Math.PI * x), 1e-15);
        // |u_t| = |−u u_x + ν u_xx| ≤ π + νπ² at t = 0, so after 1e-8 the change is below ~4e-8;
        // this exercises the quadrature where the heat kernel is ~1e-5 wide.
        solver.Evaluate(x, 1e-8).Should().BeApproximately(-Math.Sin(Math.PI * x), 1e-7);
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void Vanishes_on_the_boundary(double t)
    {
        var solver = new BurgersColeHopf();
        solver.Evaluate(-1.0, t).Should().BeApproximately(0.0, 1e-12);
        solver.Evaluate(1.0, t).Should().BeApproximately(0.0, 1e-12);
    }

    [Fact]
    public void Is_odd_in_x()
    {
        var solver = new BurgersColeHopf();
        foreach (var t in new[] { 0.05, 1 / Math.PI, 0.5, 0.9 })
            foreach (var x in new[] { 0.001, 0.01, 0.2, 0.5, 0.77, 0.99 })
            {
                double u = solver.Evaluate(x, t);
                solver.Evaluate(-x, t).Should().BeApproximately(-u, 1e-12, $"u(−x,t) = −u(x,t) at x={x}, t={t}");
                if (x >= 0.01) u.Should().BeNegative("the initial sine is negative on (0,1) and stays so");
            }
    }

    [Fact]
    public void Default_accuracy_matches_a_much_finer_quadrature_on_the_standard_grid()
    {
        var (x, t) = StandardGrid();
        var u = new BurgersColeHopf().Evaluate(x, t);
        // More than 3× the nodes of the default in every direction and a far longer window
        // (neglected tail e^−80 instead of e^−40); an odd rule so no node coincides with the default's.
        var reference = new BurgersColeHopf(Nu, nodesPerPanel: 25, panelsPerWidth: 2.0, tailLog: 80.0).Evaluate(x, t);

        u.Should().OnlyContain(v => double.IsFinite(v));
        double num = 0, den = 0;
        for (int i = 0; i < u.Length; i++)
        {
            num += (u[i] - reference[i]) * (u[i] - reference[i]);
            den += reference[i] * reference[i];
        }
        Math.Sqrt(num / den).Should().BeLessThan(1e-7);
    }

    [Fact]
    public void Reproduces_Basdevant_et_al_maximum_slope()
    {
        // Basdevant et al. (1986): for ν = 0.01/π the steepest slope is ∂u/∂x(0, t*) = −152.00516 at
        // t* = 1.6037/π (not 1/π, the inviscid breaking time, where the slope is only ≈ −34.2).
        // Central difference with h = 1e-6: inside the shock layer (width ~2ν/|u| ≈ 0.0065) the
        // truncation error h²|u_xxx|/6 is ≈ 1e-6 (≈ 1e-8 relative), and quadrature round-off
        // (~1e-16) divided by 2h adds only ~1e-10.
        var solver = new BurgersColeHopf();
        const double h = 1e-6;
        double Slope(double t) => (solver.Evaluate(h, t) - solver.Evaluate(-h, t)) / (2 * h);

        double tStar = 1.6037 / Math.PI;
        double slope = Slope(tStar);
        slope.Should().BeApproximately(-152.00516, 152.00516 * 1e-6);
        // …and it is the maximum in time: steeper than slightly earlier or later.
        Math.Abs(Slope(tStar - 0.01)).Should().BeLessThan(Math.Abs(slope));
        Math.Abs(Slope(tStar + 0.01)).Should().BeLessThan(Math.Abs(slope));
    }

    [Theory]
    [InlineData(0.5, 0.5, 1e-3)]     // smooth region
    [InlineData(-0.3, 0.2, 1e-3)]    // before the shock forms
    [InlineData(0.004, 0.6, 1e-4)]   // inside the shock layer, where |u u_x| ≈ ν|u_xx| ≈ 10²
    public void Satisfies_the_pde(double x, double t, double h)
    {
        var solver = new BurgersColeHopf();
        double U(double xx, double tt) => solver.Evaluate(xx, tt);
        // Fourth-order central stencils: truncation ~h⁴ · (derivatives), far below the tolerance for h
        // a small fraction of the local length scale; round-off ~1e-16/h² stays ≲ 1e-8 of the terms.
        double D1(Func<double, double> f, double z, double s) =>
            (-f(z + 2 * s) + 8 * f(z + s) - 8 * f(z - s) + f(z - 2 * s)) / (12 * s);
        double D2(Func<double, double> f, double z, double s) =>
            (-f(z + 2 * s) + 16 * f(z + s) - 30 * f(z) + 16 * f(z - s) - f(z - 2 * s)) / (12 * s * s);

        double u = U(x, t);
        double ut = D1(tt => U(x, tt), t, h);
        double ux = D1(xx => U(xx, t), x, h);
        double uxx = D2(xx => U(xx, t), x, h);

        double scale = Math.Max(Math.Abs(ut), Math.Max(Math.Abs(u * ux), Math.Abs(Nu * uxx)));
        scale.Should().BeGreaterThan(1e-2);
        double residual = ut + u * ux - Nu * uxx;
        Math.Abs(residual).Should().BeLessThan(1e-6 * scale, $"u_t={ut}, u u_x={u * ux}, ν u_xx={Nu * uxx}");
    }

    [Fact]
    public void Array_overload_is_pointwise()
    {
        var solver = new BurgersColeHopf();
        double[] x = [-1, -0.5, 0, 0.01, 0.5, 1, 0.3];
        double[] t = [0.2, 0, 0.7, 0.4, 1, 0.9, 0.05];
        var u = solver.Evaluate(x, t);
        u.Should().HaveCount(x.Length);
        for (int i = 0; i < x.Length; i++)
            u[i].Should().Be(solver.Evaluate(x[i], t[i]));
    }

    [Fact]
    public void Rejects_invalid_arguments()
    {
        FluentActions.Invoking(() => new BurgersColeHopf(0.0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new BurgersColeHopf(-0.1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new BurgersColeHopf(double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        var solver = new BurgersColeHopf();
        solver.Nu.Should().Be(Nu);
        FluentActions.Invoking(() => solver.Evaluate(0.5, -1e-9)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => solver.Evaluate([0.5, 0.1], [0.5, -0.1])).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => solver.Evaluate([0.5, 0.1], [0.5])).Should().Throw<ArgumentException>();
    }
}
