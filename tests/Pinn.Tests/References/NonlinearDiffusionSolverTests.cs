using Pinn.Geometry;
using Pinn.Problems;
using Pinn.References;
using Pinn.Symbolic;

namespace Pinn.Tests.References;

public class NonlinearDiffusionSolverTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static readonly Func<double, double, double> U0 = NonlinearDiffusion.U0;

    /// <summary>Relative L2 difference of a and b on the nodes of a (k−1)-interval grid, b's grid being r_b/r_a times finer.</summary>
    static double RelL2(double[,] a, double[,] b, int coarse)
    {
        int ra = (a.GetLength(0) - 1) / (coarse - 1), rb = (b.GetLength(0) - 1) / (coarse - 1);
        double num = 0, den = 0;
        for (int i = 0; i < coarse; i++)
            for (int j = 0; j < coarse; j++)
            {
                double d = a[i * ra, j * ra] - b[i * rb, j * rb];
                num += d * d;
                den += b[i * rb, j * rb] * b[i * rb, j * rb];
            }
        return Math.Sqrt(num / den);
    }

    static double[,] SolveAt(int points, double t, double maxDt = double.PositiveInfinity) =>
        new NonlinearDiffusionSolver(0.05, points, maxDt: maxDt).Solve(U0, [t])[0];

    [Fact]
    public void Benchmark_converges_at_second_order_in_space()
    {
        // Differences at t = 1 on the 33-point nodes. Measured: 3.53e-3, 8.92e-4 (ratio 3.96); continuing,
        // |u_129 − u_257| = 2.24e-4 and |u_257 − u_513| = 5.66e-5 (ratio 3.98), so the default 257² grid is within
        // (4/3)·5.66e-5 = 7.5e-5 of the converged solution at t = 1.
        var (u33, u65, u129) = (SolveAt(33, 1), SolveAt(65, 1), SolveAt(129, 1));
        double d1 = RelL2(u33, u65, 33), d2 = RelL2(u65, u129, 33);
        output.WriteLine($"|u33 − u65| = {d1:E3}, |u65 − u129| = {d2:E3}, ratio {d1 / d2:F2}, order {Math.Log2(d1 / d2):F2}");
        // Order 2 ± 0.2 (ratio 3.5–4.6): the measured 3.96 leaves room for round-off, none for a first-order term.
        (d1 / d2).Should().BeInRange(3.5, 4.6);
        d2.Should().BeLessThan(1.2e-3);
    }

    [Fact]
    public void Time_step_error_is_fourth_order_and_negligible_at_the_stability_step()
    {
        // 65² grid (space error ~1e-3): measured 2.5e-10 and 1.5e-11 (ratio 16.3); the default grid at its own
        // step shows 1e-12, eight decades below its space error.
        var s = new NonlinearDiffusionSolver(0.05, 65);
        double dt = s.Step(0.4003);
        var (a, b, c) = (SolveAt(65, 1), SolveAt(65, 1, dt / 2), SolveAt(65, 1, dt / 4));
        double d1 = RelL2(a, b, 65), d2 = RelL2(b, c, 65);
        output.WriteLine($"dt = {dt:E3}: {d1:E3}, {d2:E3}, ratio {d1 / d2:F1}");
        (d1 / d2).Should().BeInRange(12, 20, "RK4 is fourth order");
        d1.Should().BeLessThan(1e-8, "the time error must be far below the space error");
    }

    /// <summary>
    /// Barenblatt's solution of v_τ = Δ(v²) in 2-D (Vázquez, "The Porous Medium Equation", §4.4: m = 2, d = 2,
    /// α = 1/2, β = 1/4, k = 1/16): v = τ^{−1/2}(C − r²/(16 τ^{1/2}))₊. Then u(x, t) = v(x, (D/2)t + τ0) solves
    /// u_t = (D/2)Δ(u²).
    /// </summary>
    static double Barenblatt(double x, double y, double tau, double c = 0.02) =>
        Math.Max(0, c - (x * x + y * y) / (16 * Math.Sqrt(tau))) / Math.Sqrt(tau);

    [Fact]
    public void Matches_the_Barenblatt_solution_and_conserves_its_mass()
    {
        // D = 2, τ from 1 to 2: support radius 0.57 → 0.67 (inside the square, so the Dirichlet condition holds and no
        // mass leaves), max u 0.02 → 0.014 (diffusivity D·u ≈ 0.04, like the benchmark's 0.02).
        (double Max, double L2) Err(int n, out double massDrift)
        {
            var s = new NonlinearDiffusionSolver(2, n);
            var u = s.Solve((x, y) => Barenblatt(x, y, 1), [0, 1]);
            double m0 = u[0].Cast<double>().Sum(), m1 = u[1].Cast<double>().Sum();
            massDrift = Math.Abs(m1 - m0) / m0;
            double max = 0, num = 0, den = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double want = Barenblatt(s.X[i], s.Y[j], 2), d = u[1][i, j] - want;
                    max = Math.Max(max, Math.Abs(d));
                    num += d * d;
                    den += want * want;
                }
            return (max, Math.Sqrt(num / den));
        }
        var (e65, e129) = (Err(65, out double m65), Err(129, out double m129));
        output.WriteLine($"error at τ = 2, 65² → 129²: max {e65.Max:E3} → {e129.Max:E3}, relative L2 {e65.L2:E3} → {e129.L2:E3} " +
                         $"(ratio {e65.L2 / e129.L2:F2}); mass drift {m65:E1}, {m129:E1}");
        // The front is a kink (u linear to zero, Δ(u²) jumps), so the scheme is below second order there: measured max
        // error 1.65e-4 → 1.03e-4 (at the front; max u = 0.014), relative L2 3.35e-3 → 1.44e-3 (order 1.2). The bounds
        // leave ~1.4× margin and fail for a wrong factor in D (D instead of D/2 ends at τ = 3, u off by ~20 %).
        e129.Max.Should().BeLessThan(1.5e-4);
        e129.L2.Should().BeLessThan(2e-3);
        (e65.L2 / e129.L2).Should().BeGreaterThan(1.8);
        // The conservative form telescopes: with zero flux through the boundary, Σu changes only by round-off
        // (1e-16 per operation over ~10⁷ operations summed with cancellation: 1e-12 is generous, a non-conservative
        // discretisation such as D(|∇_h u|² + u Δ_h u) drifts by ~1e-4).
        m65.Should().BeLessThan(1e-12);
        m129.Should().BeLessThan(1e-12);
    }

    [Fact]
    public void Maximum_and_mass_never_grow_and_u_stays_nonnegative()
    {
        // Max principle and outflow-only boundary (u = 0 there, u > 0 inside): max u and Σu decrease. RK4 is not
        // positivity-preserving in theory; measured min u = 0 exactly (the boundary), so any negative value is a
        // symptom of an unstable step.
        var s = new NonlinearDiffusionSolver(0.05, 65);
        var times = Enumerable.Range(0, 11).Select(k => k / 10.0).ToArray();
        var u = s.Solve(U0, times);
        double Max(double[,] a) => a.Cast<double>().Max();
        double Interior(double[,] a) { double m = 0; for (int i = 1; i < 64; i++) for (int j = 1; j < 64; j++) m += a[i, j]; return m; }
        for (int k = 1; k < times.Length; k++)
        {
            Max(u[k]).Should().BeLessThan(Max(u[k - 1]), $"max u at t = {times[k]}");
            Interior(u[k]).Should().BeLessThan(Interior(u[k - 1]), $"mass at t = {times[k]}");
            u[k].Cast<double>().Min().Should().BeGreaterThanOrEqualTo(0);
            for (int i = 0; i < 65; i++)
            {
                u[k][i, 0].Should().Be(0);
                u[k][0, i].Should().Be(0);
                u[k][i, 64].Should().Be(0);
                u[k][64, i].Should().Be(0);
            }
        }
        output.WriteLine($"max u: {string.Join(", ", u.Select(a => Max(a).ToString("F4")))}");
        // t = 0 is the initial condition itself, boundary included (u0(−1, −0.1) = 9.4e-3: the benchmark's u0 is not 0 there).
        u[0][0, 29].Should().Be(U0(-1, s.Y[29]));
        u[0][0, 29].Should().BeGreaterThan(9e-3);
    }

    [Fact]
    public void Interpolation_is_exact_at_nodes_and_accurate_between()
    {
        // Values of the 129² solution at its odd nodes against cubic interpolation from its even nodes (a 65² grid).
        // Interpolating u² (smooth) instead of u (≈ √distance at the boundary): measured at t = 1, 129 → 257 nodes,
        // 3.4e-5 relative L2 instead of 5.9e-4, and 257 → 513: 4.9e-6. Here 65 → 129: measured 3.5e-4, bound 5e-4.
        var fine = new NonlinearDiffusionSolver(0.05, 129);
        var coarse = new NonlinearDiffusionSolver(0.05, 65);
        var u = fine.Solve(U0, [1.0])[0];
        var even = new double[65, 65];
        for (int i = 0; i < 65; i++)
            for (int j = 0; j < 65; j++) even[i, j] = u[2 * i, 2 * j];
        double num = 0, den = 0;
        for (int i = 0; i < 129; i++)
            for (int j = 0; j < 129; j++)
            {
                double v = coarse.Interpolate(even, fine.X[i], fine.Y[j]);
                if (i % 2 == 0 && j % 2 == 0) v.Should().Be(u[i, j], "a node returns its grid value exactly");
                num += (v - u[i, j]) * (v - u[i, j]);
                den += u[i, j] * u[i, j];
            }
        double rel = Math.Sqrt(num / den);
        output.WriteLine($"cubic interpolation of u² from 65² at the 129² nodes: {rel:E3} relative L2");
        rel.Should().BeLessThan(5e-4);
        // A smooth positive function is interpolated to fourth order: sin-bump from a 33² grid, error ~ h⁴ = 1e-6.
        var g = new NonlinearDiffusionSolver(0.05, 33);
        var bump = new double[33, 33];
        for (int i = 0; i < 33; i++)
            for (int j = 0; j < 33; j++) bump[i, j] = 1.5 + Math.Sin(g.X[i]) * Math.Cos(2 * g.Y[j]);
        g.Interpolate(bump, 0.3141, -0.777).Should().BeApproximately(1.5 + Math.Sin(0.3141) * Math.Cos(-1.554), 2e-5);
        g.Interpolate(bump, -0.99, 0.99).Should().BeApproximately(1.5 + Math.Sin(-0.99) * Math.Cos(1.98), 2e-5);
    }

    [Fact]
    public void Reference_solves_once_to_every_time_and_returns_grid_values_at_nodes()
    {
        var problem = new NonlinearDiffusion();
        var reference = new NonlinearDiffusionReference(p => new NonlinearDiffusionSolver(p.ParameterValues["D"], 33), U0, "test");
        var solver = new NonlinearDiffusionSolver(0.05, 33);
        var direct = solver.Solve(U0, [0, 0.3, 1]);
        // Columns (x, y, t): times unsorted and repeated; nodes (spacing 1/16), one off-node point.
        double[,] points = { { 0.25, -0.5, 1 }, { -1, -0.125, 0 }, { 0.5, 0.0625, 0.3 }, { -0.25, 1, 1 }, { 0.25, -0.5, 0.3 }, { 0.11, 0.07, 1 } };
        var v = reference.Evaluate(problem, points);
        v[0, 0].Should().Be(direct[2][20, 8]);
        v[1, 0].Should().Be(direct[0][0, 14]);
        v[2, 0].Should().Be(direct[1][24, 17]);
        v[3, 0].Should().Be(0);
        v[4, 0].Should().Be(direct[1][20, 8]);
        v[5, 0].Should().BeApproximately(solver.Interpolate(direct[2], 0.11, 0.07), 1e-15);
        FluentActions.Invoking(() => reference.Evaluate(problem, new double[,] { { 0, 0, -0.5 } })).Should().Throw<PinnException>();
        // A changed D reaches the solver.
        problem.SetParameter("D", 0.1);
        reference.Evaluate(problem, new double[,] { { 0.25, -0.5, 1 } })[0, 0].Should().BeLessThan(v[0, 0]);
    }

    [Fact]
    public void Problem_reference_on_an_evaluation_grid_agrees_with_a_finer_solve()
    {
        // The problem's own reference (257² grid) through the framework's grid evaluation; its nodes at the 9×9 grid's
        // points against an independent 129² solve: they differ by the 129² grid's error, 2.2e-4 relative (measured).
        var problem = new NonlinearDiffusion();
        problem.Validate();
        problem.Reference.Should().BeOfType<NonlinearDiffusionReference>();
        var sol = problem.Reference!.Solve(problem, [9, 9, 2]);
        sol.Count.Should().Be(162);
        var u129 = new NonlinearDiffusionSolver(0.05, 129).Solve(U0, [0, 1]);
        double num = 0, den = 0;
        for (int p = 0; p < sol.Count; p++)
        {
            double x = sol.Points[p, 0], y = sol.Points[p, 1], t = sol.Points[p, 2];
            int i = (int)Math.Round((x + 1) * 64), j = (int)Math.Round((y + 1) * 64);
            double want = u129[t == 0 ? 0 : 1][i, j];
            num += (sol.Values[p, 0] - want) * (sol.Values[p, 0] - want);
            den += want * want;
            if (t == 0) sol.Values[p, 0].Should().BeApproximately(U0(x, y), 1e-15);
        }
        Math.Sqrt(num / den).Should().BeLessThan(4e-4);
    }

    [Fact]
    public void Symbolic_equation_and_initial_condition_match_the_solver()
    {
        var problem = new NonlinearDiffusion();
        // u = (x² + y²)/(c − 8Dt) solves u_t = D(|∇u|² + uΔu) exactly ((x²+y²)² has Laplacian 16(x²+y²)), so the
        // problem's residual must vanish there: catches a wrong sign or factor in the symbolic equation.
        var x = Sym.Coord("x");
        var y = Sym.Coord("y");
        var t = Sym.Coord("t");
        var exact = new Dictionary<string, Expr> { ["u"] = (Sym.Pow(x, 2) + Sym.Pow(y, 2)) / (3 - 8 * 0.05 * t) };
        using (TorchSharp.torch.NewDisposeScope())
        {
            var pts = problem.Domain.Sample(Region.Interior, 200, new UniformSampler(3));
            var provider = new ExactSolutionProvider(problem.Domain.CoordinateNames, exact, problem.ParameterValues, ExactSolutionProvider.ToTensor(pts));
            // Terms are O(1): float64 rounding leaves ~1e-16.
            new TensorEvaluator(provider).Evaluate(problem.Equations[0].Equation.Residual).abs().max().item<double>().Should().BeLessThan(1e-12);
        }
        // The symbolic u0 (what the PINN is trained on) is the solver's u0.
        var ic = problem.Conditions.OfType<PointwiseCondition>().Single(c => c.Kind == ConditionKind.Initial);
        var points = new double[50, 3];
        var rng = new Random(1);
        for (int i = 0; i < 50; i++) { points[i, 0] = rng.NextDouble() * 2 - 1; points[i, 1] = rng.NextDouble() * 2 - 1; }
        var sym = new AnalyticReference(new Dictionary<string, Expr> { ["u"] = ic.Equation.Rhs }).Evaluate(problem, points);
        for (int i = 0; i < 50; i++) sym[i, 0].Should().BeApproximately(U0(points[i, 0], points[i, 1]), 1e-15);
    }

    [Fact]
    public void Bad_arguments_are_reported()
    {
        FluentActions.Invoking(() => new NonlinearDiffusionSolver(0, 33)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new NonlinearDiffusionSolver(0.05, 2)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new NonlinearDiffusionSolver(0.05, 33, 1, -1)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new NonlinearDiffusionSolver(0.05, 33, maxDt: 0)).Should().Throw<ArgumentException>();
        var s = new NonlinearDiffusionSolver(0.05, 9);
        FluentActions.Invoking(() => s.Solve(U0, [0.5, 0.2])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => s.Solve(U0, [-1.0])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => s.Solve((_, _) => double.NaN, [1.0])).Should().Throw<PinnException>();
        FluentActions.Invoking(() => s.Interpolate(new double[8, 9], 0, 0)).Should().Throw<ArgumentException>();
    }
}
