using System.Numerics;
using Pinn.Problems;
using Pinn.References;

namespace Pinn.Tests.References;

public class Etdrk4SolverTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static double MaxDiff(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    static readonly Func<double, double> Ac0 = x => x * x * Math.Cos(Math.PI * x);
    static readonly Func<double, double> Ks0 = x => -Math.Sin(Math.PI * x);

    [Fact]
    public void Transforms_use_the_unscaled_forward_convention_and_ik_for_the_derivative()
    {
        // Grid x_j = 2πj/16 on [0, 2π): sin x = (e^{ix} − e^{−ix})/2i, so û_1 = −iN/2 and û_{N−1} = +iN/2.
        var s = Etdrk4Solver.Heat(1, 16, 0, 2 * Math.PI);
        var hat = s.Forward(s.Grid.Select(Math.Sin).ToArray());
        hat[1].Real.Should().BeApproximately(0, 1e-12);
        hat[1].Imaginary.Should().BeApproximately(-8, 1e-12);
        hat[15].Imaginary.Should().BeApproximately(8, 1e-12);
        hat.Where((_, j) => j != 1 && j != 15).Max(c => c.Magnitude).Should().BeLessThan(1e-12);
        // Inverse is scaled by 1/N, and i·k·û is the transform of the derivative.
        MaxDiff(s.Inverse(hat), s.Grid.Select(Math.Sin).ToArray()).Should().BeLessThan(1e-14);
        MaxDiff(s.Inverse(s.DerivativeHat(hat)), s.Grid.Select(Math.Cos).ToArray()).Should().BeLessThan(1e-13);
        // On [−1, 1) the wavenumbers are π·m.
        Etdrk4Solver.Heat(1, 8, -1, 2).Wavenumbers().Should().Equal(new[] { 0, 1, 2, 3, 0, -3, -2, -1 }.Select(m => Math.PI * m));
    }

    [Fact]
    public void Heat_and_advection_match_their_exact_solutions()
    {
        var heat = Etdrk4Solver.Heat(0.1, 64, -1, 2);
        var u = heat.Solve(x => Math.Sin(Math.PI * x) + 0.3 * Math.Cos(3 * Math.PI * x), [0.3, 1.0], 0.03);
        double[] Exact(double t) => heat.Grid.Select(x => Math.Exp(-0.1 * Math.PI * Math.PI * t) * Math.Sin(Math.PI * x)
                                                         + 0.3 * Math.Exp(-0.9 * Math.PI * Math.PI * t) * Math.Cos(3 * Math.PI * x)).ToArray();
        MaxDiff(u[0], Exact(0.3)).Should().BeLessThan(1e-9);
        MaxDiff(u[1], Exact(1.0)).Should().BeLessThan(1e-9);

        // The Nyquist mode cos(8πx) of a 16-point grid decays with its own rate d·(8π)².
        var nyq = Etdrk4Solver.Heat(0.1, 16, -1, 2);
        MaxDiff(nyq.Solve(x => Math.Cos(8 * Math.PI * x), [0.01], 1e-3)[0],
                nyq.Grid.Select(x => Math.Exp(-6.4 * Math.PI * Math.PI * 0.01) * Math.Cos(8 * Math.PI * x)).ToArray()).Should().BeLessThan(1e-12);

        var adv = Etdrk4Solver.Advection(2, 64, -1, 2);
        var v = adv.Solve(x => Math.Sin(Math.PI * x), [0.25, 1.0], 0.01);
        MaxDiff(v[0], adv.Grid.Select(x => Math.Sin(Math.PI * (x - 0.5))).ToArray()).Should().BeLessThan(1e-9);
        MaxDiff(v[1], adv.Grid.Select(x => Math.Sin(Math.PI * (x - 2))).ToArray()).Should().BeLessThan(1e-9);
    }

    [Fact]
    public void Nonlinear_terms_are_stepped_to_fourth_order()
    {
        // A spatially constant Allen–Cahn state follows u' = r(u − u³) (hL = 5h > 0 on the k = 0 mode), solved exactly.
        var ac = Etdrk4Solver.AllenCahn(points: 16);
        const double u0 = 0.1, r = 5;
        double exact = u0 * Math.Exp(r) / Math.Sqrt(1 + u0 * u0 * (Math.Exp(2 * r) - 1));
        double Err(double dt) => ac.Solve(_ => u0, [1.0], dt)[0].Max(v => Math.Abs(v - exact));
        double e1 = Err(0.02), e2 = Err(0.01);
        output.WriteLine($"logistic: error {e1:E2} (dt 0.02), {e2:E2} (dt 0.01), ratio {e1 / e2:F1}");
        (e1 / e2).Should().BeInRange(12, 20, "ETDRK4 is fourth order");
        Err(1e-3).Should().BeLessThan(1e-10);

        // u_t + c u_x = −λu with −λu as the "nonlinear" term: a complex symbol −ick in the φ-functions (whole contour).
        const double c = 2, lambda = 3;
        var adv = new Etdrk4Solver(-1, 2, 32, k => new Complex(0, -c * k), (_, uHat, outHat) =>
        {
            for (int j = 0; j < uHat.Length; j++) outHat[j] = -lambda * uHat[j];
        });
        var want = adv.Grid.Select(x => Math.Exp(-lambda) * Math.Sin(Math.PI * (x - c))).ToArray();
        double AdvErr(double dt) => MaxDiff(adv.Solve(x => Math.Sin(Math.PI * x), [1.0], dt)[0], want);
        double a1 = AdvErr(0.1), a2 = AdvErr(0.05);
        output.WriteLine($"advection–decay: error {a1:E2} (dt 0.1), {a2:E2} (dt 0.05), ratio {a1 / a2:F1}");
        (a1 / a2).Should().BeInRange(12, 20, "ETDRK4 is fourth order");
        AdvErr(0.01).Should().BeLessThan(1e-8);
    }

    [Fact]
    public void Allen_Cahn_and_KS_converge_in_the_time_step()
    {
        // The default dt = 1e-4 against dt/2. On the full horizon t = 1 (too slow for a unit test: 3·10⁴ steps each)
        // the measured differences are 1.2e-11 (Allen–Cahn) and 8.5e-11 (KS); here t = 0.2.
        var ac = Etdrk4Solver.AllenCahn();
        var ks = Etdrk4Solver.KuramotoSivashinsky();
        double dAc = MaxDiff(ac.Solve(Ac0, [0.2], 1e-4)[0], ac.Solve(Ac0, [0.2], 5e-5)[0]);
        double dKs = MaxDiff(ks.Solve(Ks0, [0.2], 1e-4)[0], ks.Solve(Ks0, [0.2], 5e-5)[0]);
        output.WriteLine($"max |u(dt) − u(dt/2)| at t = 0.2, dt = 1e-4: Allen–Cahn {dAc:E2}, KS {dKs:E2}");
        dAc.Should().BeLessThan(1e-7);
        dKs.Should().BeLessThan(1e-7);

        // Allen–Cahn on the 512-mode benchmark grid shows the clean fourth-order ratio 16 at coarse steps.
        var (c1, c2, c3) = (ac.Solve(Ac0, [0.1], 4e-3)[0], ac.Solve(Ac0, [0.1], 2e-3)[0], ac.Solve(Ac0, [0.1], 1e-3)[0]);
        double d1 = MaxDiff(c1, c2), d2 = MaxDiff(c2, c3);
        output.WriteLine($"Allen–Cahn t = 0.1: {d1:E2}, {d2:E2}, ratio {d1 / d2:F1}");
        (d1 / d2).Should().BeInRange(12, 20);
    }

    [Fact]
    public void Output_times_are_hit_exactly_whatever_the_step()
    {
        // Stopping at intermediate times (steps shortened to fit) gives the same answer as one long run.
        var ks = Etdrk4Solver.KuramotoSivashinsky(points: 128);
        var direct = ks.Solve(Ks0, [0.05], 1e-4)[0];
        var stops = ks.Solve(Ks0, [0, 0.0123, 0.0123, 0.031, 0.05], 1e-4);
        MaxDiff(stops[4], direct).Should().BeLessThan(1e-10);
        MaxDiff(stops[0], ks.Grid.Select(Ks0).ToArray()).Should().BeLessThan(1e-14);
        stops[2].Should().Equal(stops[1]);
    }

    [Fact]
    public void Allen_Cahn_forms_metastable_plateaus_at_t_1()
    {
        var ac = Etdrk4Solver.AllenCahn();
        var u = ac.Solve(Ac0, [1.0], 1e-4)[0];
        u.Max().Should().BeLessThan(1.01);
        u.Min().Should().BeGreaterThan(-1.01);
        // u0 = x² cos πx is even and the equation preserves that.
        for (int j = 1; j < 256; j++) u[j].Should().BeApproximately(u[512 - j], 1e-9, $"symmetry at x = {ac.Grid[j]}");
        // u0 < 0 for 1/2 < |x| ≤ 1: the −1 phase fills it. u0 > 0 for 0 < |x| < 1/2: the +1 phase forms around |x| ≈ 0.3,
        // with interfaces near |x| = 1/2 (u0 = 0 there).
        ac.Interpolate(u, [-1.0, -0.9, -0.75, 0.75, 0.9]).Should().OnlyContain(v => v < -0.99);
        ac.Interpolate(u, [-0.35, -0.3, -0.25, 0.25, 0.3, 0.35]).Should().OnlyContain(v => v > 0.98);
        ac.Interpolate(u, 0.5).Should().BeInRange(-0.2, 0.0);
        // x = 0 (u0 = 0, a double zero between positive values) is the thin dip of the benchmark's figures: diffusion
        // lifts it only slowly from the unstable state u = 0 (measured u(1, 0) = 0.0296).
        ac.Interpolate(u, 0.0).Should().BeInRange(0.01, 0.06);
        ac.Interpolate(u, 0.1).Should().BeInRange(0.7, 0.9);
    }

    [Fact]
    public void Kuramoto_Sivashinsky_keeps_its_odd_symmetry_and_saturates()
    {
        // u0 = −sin πx is odd about 0 and ±1/2 shifts; the linear instability (β k² > γ k⁴ for k < 10) is saturated
        // by the nonlinear transfer: max |u| stays near 2 (measured 2.14 at t = 0.5, 2.008 at t = 1).
        var ks = Etdrk4Solver.KuramotoSivashinsky();
        var u = ks.Solve(Ks0, [0.5], 1e-4)[0];
        for (int j = 1; j < 256; j++) u[j].Should().BeApproximately(-u[512 - j], 1e-9);
        u.Max(Math.Abs).Should().BeInRange(1.5, 2.5);
    }

    [Fact]
    public void Trigonometric_interpolation_is_exact_for_band_limited_data()
    {
        Func<double, double> f = x => Math.Sin(3 * Math.PI * x) + 0.2 * Math.Cos(7 * Math.PI * x) - 0.5 + 0.1 * Math.Sin(15 * Math.PI * x + 0.3);
        foreach (int n in new[] { 32, 33 })
        {
            var s = Etdrk4Solver.Heat(1, n, -1, 2);
            var grid = s.Grid.Select(f).ToArray();
            double[] xs = [-0.93, -0.1234, 0.5 + 1e-3, 0.777, 0.999, 2.6, -3.3];
            var got = s.Interpolate(grid, xs);
            for (int i = 0; i < xs.Length; i++)
            {
                got[i].Should().BeApproximately(f(xs[i]), 1e-12, $"x = {xs[i]}, N = {n}");
                s.Interpolate(grid, xs[i]).Should().Be(got[i]);
            }
            // At the nodes (and their periodic images) the grid values come back exactly.
            s.Interpolate(grid, s.Grid[5]).Should().Be(grid[5]);
            s.Interpolate(grid, s.Grid[7] + 2).Should().Be(grid[7]);
            s.Interpolate(grid, 1.0).Should().Be(grid[0]);
        }
        // The Nyquist mode of an even grid is interpolated as cos(N θ/2), not as e^{±iNθ/2}.
        var q = Etdrk4Solver.Heat(1, 8, -1, 2);
        q.Interpolate(q.Grid.Select(x => Math.Cos(4 * Math.PI * x)).ToArray(), 0.1).Should().BeApproximately(Math.Cos(0.4 * Math.PI), 1e-13);
    }

    [Fact]
    public void The_two_thirds_rule_removes_the_top_third_of_the_nonlinear_term()
    {
        // u_t = f with f = cos(6πx) + cos(2πx) on 16 points of [−1, 1): mode 6 > 16/3 is cut when dealiasing, mode 2 is kept.
        Func<double, double> f = x => Math.Cos(6 * Math.PI * x) + Math.Cos(2 * Math.PI * x);
        Etdrk4Solver Make(bool dealias)
        {
            Etdrk4Solver? s = null;
            s = new Etdrk4Solver(-1, 2, 16, _ => Complex.Zero, (_, _, outHat) =>
            {
                var hat = s!.Forward(s.Grid.Select(f).ToArray());
                Array.Copy(hat, outHat, hat.Length);
            }, dealias);
            return s;
        }
        var plain = Make(false);
        MaxDiff(plain.Solve(_ => 0, [0.5], 0.1)[0], plain.Grid.Select(x => 0.5 * f(x)).ToArray()).Should().BeLessThan(1e-13);
        var cut = Make(true);
        cut.Dealiased.Should().BeTrue();
        MaxDiff(cut.Solve(_ => 0, [0.5], 0.1)[0], cut.Grid.Select(x => 0.5 * Math.Cos(2 * Math.PI * x)).ToArray()).Should().BeLessThan(1e-13);
    }

    /// <summary>u_t = d u_xx on x ∈ [−1, 1) periodic, t ∈ [0, 1], with its spectral reference.</summary>
    sealed class PeriodicHeat : Problem
    {
        public override string Name => "periodic_heat";
        public PeriodicHeat()
        {
            Space("x", -1, 1);
            Time(0, 1);
            Field("u");
            Parameter("d", 0.1);
            Reference = new SpectralReference(p => Etdrk4Solver.Heat(p.ParameterValues["d"], 32, -1, 2),
                                              x => Math.Sin(Math.PI * x), dt: 0.01, description: "spectral");
        }
    }

    [Fact]
    public void Spectral_reference_solves_once_and_interpolates_every_point()
    {
        var problem = new PeriodicHeat();
        problem.SetParameter("d", 0.2);
        var reference = (SpectralReference)problem.Reference!;
        reference.Description.Should().Be("spectral");
        // Columns are (x, t); times unsorted and repeated, x on and off the grid and outside [−1, 1).
        double[,] points = { { 0.3, 0.7 }, { -0.77, 0.1 }, { 0.3, 0.1 }, { 1.5, 0.7 }, { -1, 0 }, { 0.0625, 1.0 }, { 0.123, 1.0 } };
        var values = reference.Evaluate(problem, points);
        values.GetLength(0).Should().Be(7);
        values.GetLength(1).Should().Be(1);
        for (int i = 0; i < 7; i++)
            values[i, 0].Should().BeApproximately(Math.Exp(-0.2 * Math.PI * Math.PI * points[i, 1]) * Math.Sin(Math.PI * points[i, 0]), 1e-9,
                                                  $"point {i}");
        // A grid node gets the solver's grid value itself.
        var solver = Etdrk4Solver.Heat(0.2, 32, -1, 2);
        values[5, 0].Should().Be(solver.Solve(x => Math.Sin(Math.PI * x), [1.0], 0.01)[0][17]);
        // Through the framework's grid evaluation.
        var grid = reference.Solve(problem, [9, 3]);
        grid.Count.Should().Be(27);
        for (int i = 0; i < grid.Count; i++)
            grid.Values[i, 0].Should().BeApproximately(Math.Exp(-0.2 * Math.PI * Math.PI * grid.Points[i, 1]) * Math.Sin(Math.PI * grid.Points[i, 0]), 1e-9);
        FluentActions.Invoking(() => reference.Evaluate(problem, new double[,] { { 0, -0.5 } })).Should().Throw<PinnException>();
    }

    [Fact]
    public void Bad_arguments_and_blow_up_are_reported()
    {
        FluentActions.Invoking(() => Etdrk4Solver.Heat(1, 3, -1, 2)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => Etdrk4Solver.Heat(1, 16, -1, 0)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => Etdrk4Solver.KuramotoSivashinsky(period: -2)).Should().Throw<ArgumentException>();
        var s = Etdrk4Solver.Heat(1, 16, -1, 2);
        FluentActions.Invoking(() => s.Solve(Math.Sin, [1.0], 0)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => s.Solve(Math.Sin, [1.0], -1e-3)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => s.Solve(Math.Sin, [0.5, 0.2], 1e-3)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => s.Interpolate(new double[15], 0.0)).Should().Throw<ArgumentException>();

        // u' = u² from u = 1 blows up at t = 1.
        var blow = new Etdrk4Solver(0, 1, 8, _ => Complex.Zero, (u, _, outHat) =>
        {
            for (int j = 0; j < u.Length; j++) outHat[j] = u[j] * u[j];
            MathNet.Numerics.IntegralTransforms.Fourier.Forward(outHat, MathNet.Numerics.IntegralTransforms.FourierOptions.Matlab);
        });
        blow.Solve(_ => 1, [0.5], 0.01)[0].Should().OnlyContain(v => Math.Abs(v - 2) < 1e-6);
        FluentActions.Invoking(() => blow.Solve(_ => 1, [2.0], 0.01)).Should().Throw<PinnException>().WithMessage("*non-finite at t = 1.*");
    }
}
