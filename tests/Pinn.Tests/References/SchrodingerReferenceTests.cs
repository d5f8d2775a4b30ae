using MathNet.Numerics.Integration;
using Pinn.Problems;
using Pinn.References;
using Pinn.Symbolic;
using static Pinn.Symbolic.Sym;

namespace Pinn.Tests.References;

/// <summary>
/// The Schrödinger eigen-solver against closed forms (infinite well, harmonic oscillator) and against the roots of the
/// finite well's and barrier's transcendental equations, and its reference against a problem. Every computation is
/// deterministic double precision; the tolerances are ~10× the errors measured on this machine (quoted per test).
/// </summary>
public class SchrodingerReferenceTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static Func<double[], double[]> Pointwise(Func<double, double> f) => xs => Array.ConvertAll(xs, x => f(x));

    static double RelErr(double value, double exact) => Math.Abs(value - exact) / Math.Abs(exact);

    /// <summary>∫_0^1 f by 32-point Gauss–Legendre on 64 panels, whose ends include the wells' edges 1/4 and 3/4.</summary>
    static double Integrate(Func<double, double> f)
    {
        double sum = 0;
        for (int p = 0; p < 64; p++) sum += GaussLegendreRule.Integrate(f, p / 64.0, (p + 1) / 64.0, 32);
        return sum;
    }

    static double SupError(SchrodingerStates s, int state, Func<double, double> exact)
    {
        double sup = 0;
        for (int i = 0; i <= 10007; i++)
        {
            double x = i / 10007.0;   // 10007 is prime: the points sample every position between the 960 grid nodes
            sup = Math.Max(sup, Math.Abs(s.Psi(state, x) - exact(x)));
        }
        return sup;
    }

    static double WorstOrthonormality(SchrodingerStates s)
    {
        double worst = 0;
        for (int i = 0; i < s.Count; i++)
            for (int j = 0; j <= i; j++)
                worst = Math.Max(worst, Math.Abs(Integrate(x => s.Psi(i, x) * s.Psi(j, x)) - (i == j ? 1 : 0)));
        return worst;
    }

    [Fact]
    public void One_grid_gives_the_discrete_eigenvalues_of_the_second_difference_to_rounding()
    {
        // −D² on n intervals has eigenvalues (4/h²) sin²(kπh/2) exactly: this checks the bisection and its cancellation-free
        // pivots, not the discretisation. Measured 1.4e-15 relative at n = 960 (a naive Sturm count on 2/h² + V − λ loses
        // ~1e-8 relative there).
        const int n = 960;
        var grid = SchrodingerSolver.SolveGrid(Pointwise(_ => 0), 0, 1, 6, n);
        double h = 1.0 / n;
        for (int k = 0; k < 6; k++)
            RelErr(grid.Energies[k], 4 / (h * h) * Math.Pow(Math.Sin((k + 1) * Math.PI * h / 2), 2)).Should().BeLessThan(2e-14, $"state {k}");
        grid.EnergyErrorEstimates.Should().OnlyContain(e => double.IsNaN(e));
    }

    [Fact]
    public void Infinite_well_energies_are_n_squared_pi_squared_after_extrapolation()
    {
        // One grid is O(h²) = 1e-6 wrong; the three-grid extrapolation leaves O(h⁶) plus rounding: measured ≤ 1.9e-14 relative
        // for the first 6 states at n = 960 (the rounding of the 3840-interval grid's bisection, weighted 64/45), ≤ 1.2e-11 at n = 120.
        var s = SchrodingerSolver.Solve(_ => 0.0, 0, 1, 6);
        var exact = SchrodingerAnalytic.InfiniteWellEnergies(1, 6);
        exact[3].Should().BeApproximately(16 * Math.PI * Math.PI, 1e-12);
        for (int k = 0; k < 6; k++)
        {
            output.WriteLine($"E_{k} = {s.Energies[k]:R}: relative error {RelErr(s.Energies[k], exact[k]):E2}, estimate {s.EnergyErrorEstimates[k] / exact[k]:E2}");
            RelErr(s.Energies[k], exact[k]).Should().BeLessThan(2e-13, $"state {k}");
            // The estimate (three- vs two-grid extrapolation) bounds the error here; measured 5e-15 … 6e-12 relative.
            s.EnergyErrorEstimates[k].Should().BeLessThan(1e-10 * exact[k]);
        }
        // On another interval: E_n = (nπ/L)² for L = 2.
        var shifted = SchrodingerSolver.Solve(_ => 0.0, -0.5, 1.5, 3);
        for (int k = 0; k < 3; k++) RelErr(shifted.Energies[k], SchrodingerAnalytic.InfiniteWellEnergies(2, 3)[k]).Should().BeLessThan(2e-13);
    }

    [Fact]
    public void Infinite_well_states_are_sqrt2_sin_with_the_sign_positive_near_a()
    {
        // The discrete eigenvectors of −D² are sampled sines, so only rounding remains: measured sup ≤ 1.4e-14 over
        // 10008 points (nodes and between them). A wrong sign would be an O(1) error.
        var s = SchrodingerSolver.Solve(_ => 0.0, 0, 1, 4);
        for (int k = 0; k < 4; k++)
        {
            int n = k + 1;
            double sup = SupError(s, k, x => SchrodingerAnalytic.InfiniteWellState(n, 1, x));
            output.WriteLine($"ψ_{k}: sup error {sup:E2}");
            sup.Should().BeLessThan(2e-13, $"state {k}");
            s.Psi(k, 1e-3).Should().BeGreaterThan(0);
        }
        s.Psi(0, 0).Should().Be(0);
        s.Psi(0, 1).Should().Be(0);
        s.NodalValues(1).Should().HaveCount(961);
        s.Nodes.Should().HaveCount(961).And.StartWith(0.0).And.EndWith(1.0);
    }

    [Fact]
    public void Computed_states_are_orthonormal_by_quadrature()
    {
        // Gauss–Legendre on the evaluator ψ_k(x) (not on the grid): measured 4e-15 (infinite well), 2.7e-11 (well V0 = 100,
        // the trapezoid normalisation on the 960-interval grid of a ψ whose ψ'' jumps), 2.8e-12 (oscillator).
        foreach (var (name, v) in new (string, Func<double, double>)[]
                 {
                     ("infinite well", _ => 0), ("finite well", SchrodingerAnalytic.FiniteWell(100, 0.5)),
                     ("oscillator", x => 1000 * (x - 0.5) * (x - 0.5)),
                 })
        {
            double worst = WorstOrthonormality(SchrodingerSolver.Solve(v, 0, 1, 4));
            output.WriteLine($"{name}: |<ψ_i, ψ_j> − δ_ij| ≤ {worst:E2}");
            worst.Should().BeLessThan(3e-10, name);
        }
    }

    [Theory]
    [InlineData(10)]     // every state above V0 (E_0 = 11.56)
    [InlineData(50)]     // E_0 = 16.4 below V0, the rest above
    [InlineData(100)]    // two below, three above
    [InlineData(1000)]   // all five below
    public void Finite_well_energies_match_the_transcendental_roots(double v0)
    {
        // Jumps at x = 1/4, 3/4 are grid nodes, where the error expansion stays regular (one grid: exactly h²-convergent, ratio
        // 4.00): measured ≤ 1.7e-14 relative between the extrapolated energies and the Brent roots (to 2e-5 at n = 1001, where
        // the jumps fall between nodes).
        var exact = SchrodingerAnalytic.FiniteWellEnergies(v0, 0.5, 5);
        var s = SchrodingerSolver.Solve(SchrodingerAnalytic.FiniteWell(v0, 0.5), 0, 1, 5);
        for (int k = 0; k < 5; k++)
        {
            output.WriteLine($"V0 = {v0}, E_{k} = {exact[k]:R} ({(exact[k] < v0 ? "below" : "above")} V0): relative error {RelErr(s.Energies[k], exact[k]):E2}");
            RelErr(s.Energies[k], exact[k]).Should().BeLessThan(2e-13, $"state {k}");
        }
        exact.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        // Between the infinite box of width 1 (V0 → 0) and the infinite well of width 1/2 (V0 → ∞).
        exact[0].Should().BeInRange(Math.PI * Math.PI, 4 * Math.PI * Math.PI);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(50)]
    [InlineData(100)]
    [InlineData(1000)]   // tunnelling doublets: E_0, E_1 differ by 3e-7 relative
    public void Finite_barrier_energies_match_the_transcendental_roots(double v0)
    {
        // Measured ≤ 1e-14 relative, the near-degenerate pairs at V0 = 1000 included.
        var exact = SchrodingerAnalytic.FiniteBarrierEnergies(v0, 0.5, 5);
        var s = SchrodingerSolver.Solve(SchrodingerAnalytic.FiniteBarrier(v0, 0.5), 0, 1, 5);
        for (int k = 0; k < 5; k++)
        {
            output.WriteLine($"V0 = {v0}, E_{k} = {exact[k]:R}: relative error {RelErr(s.Energies[k], exact[k]):E2}");
            RelErr(s.Energies[k], exact[k]).Should().BeLessThan(2e-13, $"state {k}");
        }
        exact.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        if (v0 == 1000) (exact[1] - exact[0]).Should().BeInRange(1e-5, 1e-4, "the doublet is resolved, not merged");
    }

    [Fact]
    public void Transcendental_roots_reduce_to_the_box_and_agree_on_the_odd_states()
    {
        // V0 = 0: both are the box [0, 1], E = n²π². Measured 4e-16 relative.
        var box = SchrodingerAnalytic.InfiniteWellEnergies(1, 5);
        foreach (var e in new[] { SchrodingerAnalytic.FiniteWellEnergies(0, 0.5, 5), SchrodingerAnalytic.FiniteBarrierEnergies(0, 0.3, 5) })
            for (int k = 0; k < 5; k++) RelErr(e[k], box[k]).Should().BeLessThan(1e-13);
        // An odd state vanishes at x = 1/2, so it is a state of the half box [0, 1/2]; reflecting the half box maps the well
        // (V0 then 0) onto the barrier (0 then V0): their odd energies (states 1, 3) are equal. Measured ≤ 1e-15 relative.
        foreach (double v0 in new[] { 10.0, 100, 1000 })
        {
            var well = SchrodingerAnalytic.FiniteWellEnergies(v0, 0.5, 6);
            var barrier = SchrodingerAnalytic.FiniteBarrierEnergies(v0, 0.5, 6);
            // State k has parity (−1)^k (k nodes, symmetric potential): the odd ones are k = 1, 3, 5.
            foreach (int k in new[] { 1, 3, 5 }) RelErr(well[k], barrier[k]).Should().BeLessThan(1e-13, $"V0 = {v0}, state {k}");
        }
    }

    /// <summary>
    /// The exact state k of the symmetric box: centre potential <paramref name="vc"/> on |x − ½| &lt; w/2, <paramref name="vs"/>
    /// out to the walls; parity (−1)^k; C and S as in <see cref="SchrodingerAnalytic"/>; normalised by quadrature.
    /// </summary>
    static Func<double, double> ExactBoxState(double vc, double vs, double width, double e, int k)
    {
        static double C(double s, double t) => s > 0 ? Math.Cosh(Math.Sqrt(s) * t) : s < 0 ? Math.Cos(Math.Sqrt(-s) * t) : 1;
        static double S(double s, double t) => s > 0 ? Math.Sinh(Math.Sqrt(s) * t) / Math.Sqrt(s) : s < 0 ? Math.Sin(Math.Sqrt(-s) * t) / Math.Sqrt(-s) : t;
        double tc = width / 2, d = (1 - width) / 2;
        bool even = k % 2 == 0;
        double Centre(double y) => even ? C(vc - e, y) : S(vc - e, y);
        double Half(double y) => y <= tc ? Centre(y) : Centre(tc) * S(vs - e, 0.5 - y) / S(vs - e, d);
        double Raw(double x) => x >= 0.5 ? Half(x - 0.5) : (even ? 1 : -1) * Half(0.5 - x);
        double scale = (Raw(1e-3) > 0 ? 1 : -1) / Math.Sqrt(Integrate(x => Raw(x) * Raw(x)));
        return x => scale * Raw(x);
    }

    [Theory]
    [InlineData(false, 100, 1e-10)]   // measured 1e-11 … 2.1e-11
    [InlineData(false, 1000, 1e-8)]   // measured 8e-11 … 9e-10
    [InlineData(true, 1000, 5e-7)]    // measured 5e-8 (ground state of a doublet split by 3e-7 relative) … 9e-10
    public void Finite_well_and_barrier_states_match_the_exact_piecewise_solution(bool barrier, double v0, double tolerance)
    {
        // Between nodes ψ solves ψ'' = (V − E) ψ exactly on each constant piece, so the error is that of the nodal values.
        var exact = barrier ? SchrodingerAnalytic.FiniteBarrierEnergies(v0, 0.5, 4) : SchrodingerAnalytic.FiniteWellEnergies(v0, 0.5, 4);
        var s = SchrodingerSolver.Solve(barrier ? SchrodingerAnalytic.FiniteBarrier(v0, 0.5) : SchrodingerAnalytic.FiniteWell(v0, 0.5), 0, 1, 4);
        for (int k = 0; k < 4; k++)
        {
            double sup = SupError(s, k, barrier ? ExactBoxState(v0, 0, 0.5, exact[k], k) : ExactBoxState(0, v0, 0.5, exact[k], k));
            output.WriteLine($"{(barrier ? "barrier" : "well")} V0 = {v0}, ψ_{k}: sup error {sup:E2}");
            sup.Should().BeLessThan(tolerance, $"state {k}");
            // State k has k interior nodes (Sturm oscillation), so the ordering is the physical one.
            var values = s.NodalValues(k)[1..^1];
            values.Zip(values.Skip(1), (p, q) => p * q < 0).Count(c => c).Should().Be(k);
        }
    }

    [Fact]
    public void Oscillator_deep_in_the_box_has_energies_omega_2n_plus_1()
    {
        // V = ω²(x − ½)² with ω = √1e5 ≈ 316: the walls sit ξ = √ω/2 ≈ 8.9 oscillator lengths out, so the box moves the
        // energies by ~ξ^{2n+1} e^{−ξ²} < 1e-25 and E_n = ω(2n + 1). Measured ≤ 1.9e-14 relative. The ground state differs from
        // (ω/π)^{1/4} e^{−ω y²/2} by 2e-7 (sup): the interpolation between nodes, O(h³ |V'| ψ), as V is not constant there.
        double c = 1e5, omega = Math.Sqrt(c);
        var s = SchrodingerSolver.Solve(x => c * (x - 0.5) * (x - 0.5), 0, 1, 4);
        for (int k = 0; k < 4; k++) RelErr(s.Energies[k], omega * (2 * k + 1)).Should().BeLessThan(2e-13, $"state {k}");
        double sup = SupError(s, 0, x => Math.Pow(omega / Math.PI, 0.25) * Math.Exp(-omega * (x - 0.5) * (x - 0.5) / 2));
        output.WriteLine($"ground state sup error {sup:E2}");
        sup.Should().BeLessThan(2e-6);
    }

    [Fact]
    public void Jumps_between_nodes_degrade_the_energies_and_the_estimate_says_so()
    {
        // n = 1001 puts x = 1/4 a quarter of a cell past a node: the O(h²) error is no longer regular in h and the extrapolation
        // leaves 1e-5 relative (measured 2.6e-5 for E_0 at V0 = 100); the error estimate is of the same size (measured 3.0e-5).
        var exact = SchrodingerAnalytic.FiniteWellEnergies(100, 0.5, 1)[0];
        var s = SchrodingerSolver.Solve(SchrodingerAnalytic.FiniteWell(100, 0.5), 0, 1, 1, 1001);
        double err = RelErr(s.Energies[0], exact);
        err.Should().BeInRange(1e-6, 1e-4);
        (s.EnergyErrorEstimates[0] / exact).Should().BeInRange(err / 10, err * 10);
    }

    [Fact]
    public void Expression_potential_with_a_parameter_gives_the_same_states_as_the_function()
    {
        // V0 (1 + sign(|x − ½| − ¼))/2 is the well; the Gauss points never sit on the jumps, so both see the same numbers.
        var x = Coord("x");
        var v = Param("V0") * (1 + Sign(Abs(x - 0.5) - 0.25)) / 2;
        var fromExpr = SchrodingerSolver.Solve(v, "x", 0, 1, 3, parameters: new Dictionary<string, double> { ["V0"] = 50 });
        var fromFunc = SchrodingerSolver.Solve(SchrodingerAnalytic.FiniteWell(50, 0.5), 0, 1, 3);
        for (int k = 0; k < 3; k++)
        {
            RelErr(fromExpr.Energies[k], fromFunc.Energies[k]).Should().BeLessThan(1e-14);
            fromExpr.Psi(k, 0.3).Should().BeApproximately(fromFunc.Psi(k, 0.3), 1e-13);
        }
        FluentActions.Invoking(() => SchrodingerSolver.Solve(v, "x", 0, 1, 3)).Should().Throw<PinnException>().WithMessage("*V0*");
        FluentActions.Invoking(() => SchrodingerSolver.Solve(Field("u") * x, "x", 0, 1, 3)).Should().Throw<PinnException>().WithMessage("*field*");
    }

    /// <summary>−u'' + V u = E u on [0, 1], E trainable, u compared with the first excited state of the finite well.</summary>
    sealed class WellEigenproblem : Problem
    {
        public override string Name => "well_eigenproblem";

        public WellEigenproblem(double right = 1)
        {
            var x = Space("x", 0, right);
            var u = Field("u");
            var v0 = Parameter("V0", 100);
            var e = Parameter(new ProblemParameter("E", 50, Trainable: true));
            var v = v0 * (1 + Sign(Abs(x - 0.5) - 0.25)) / 2;
            Equation(-Dxx(u) + v * u == e * u);
            Reference = new SchrodingerReference(v, 0, 1, "u", 1, parameters: ReferenceParameterValues);
        }
    }

    [Fact]
    public void Reference_gives_the_mapped_state_and_its_energy()
    {
        var problem = new WellEigenproblem();
        var reference = (SchrodingerReference)problem.Reference!;
        var exact = SchrodingerAnalytic.FiniteWellEnergies(100, 0.5, 2);
        reference.Energies.Should().HaveCount(2);
        RelErr(reference.Energy("u"), exact[1]).Should().BeLessThan(2e-13);
        reference.Description.Should().Contain("u = state 1").And.Contain("E = 75.144711");
        double[,] points = { { 0.1 }, { 0.25 }, { 0.5 }, { 0.9 }, { 1.0 } };
        var values = reference.Evaluate(problem, points);
        values.GetLength(1).Should().Be(1);
        for (int i = 0; i < 5; i++) values[i, 0].Should().Be(reference.States.Psi(1, points[i, 0]));
        values[2, 0].Should().BeApproximately(0, 1e-10, "state 1 of a symmetric well is odd");
        values[4, 0].Should().Be(0);
        var grid = reference.Solve(problem, [101]);
        grid.Count.Should().Be(101);
        grid.Values[10, 0].Should().Be(reference.States.Psi(1, grid.Points[10, 0]));
        FluentActions.Invoking(() => reference.Energy("w")).Should().Throw<PinnException>();
    }

    [Fact]
    public void Reference_rejects_another_interval_and_unmapped_fields()
    {
        var wide = new WellEigenproblem(2);
        FluentActions.Invoking(() => ((SchrodingerReference)wide.Reference!).Evaluate(wide, new double[,] { { 0.5 } }))
            .Should().Throw<PinnException>().WithMessage("*[0, 2]*[0, 1]*");
        var problem = new WellEigenproblem();
        var other = new SchrodingerReference(_ => 0, 0, 1, "w", 0);
        FluentActions.Invoking(() => other.Evaluate(problem, new double[,] { { 0.5 } })).Should().Throw<PinnException>().WithMessage("*'u'*");
        FluentActions.Invoking(() => new SchrodingerReference(_ => 0, 0, 1, "u", -1)).Should().Throw<PinnException>();
    }

    [Fact]
    public void Bad_inputs_are_errors_that_say_what_is_wrong()
    {
        FluentActions.Invoking(() => SchrodingerSolver.Solve(_ => 0.0, 1, 0, 2)).Should().Throw<PinnException>().WithMessage("*a < b*");
        FluentActions.Invoking(() => SchrodingerSolver.Solve(_ => 0.0, 0, 1, 0)).Should().Throw<PinnException>().WithMessage("*at least 1*");
        FluentActions.Invoking(() => SchrodingerSolver.Solve(_ => 0.0, 0, 1, 10, 40)).Should().Throw<PinnException>().WithMessage("*cannot resolve*");
        FluentActions.Invoking(() => SchrodingerSolver.Solve(x => x > 0.5 ? double.NaN : 0, 0, 1, 2)).Should().Throw<PinnException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => SchrodingerSolver.Solve(_ => 0.0, 0, 1, 2).Psi(2, 0.5)).Should().Throw<PinnException>().WithMessage("*state 2*");
        FluentActions.Invoking(() => SchrodingerSolver.Solve(_ => 0.0, 0, 1, 2).Psi(0, 1.5)).Should().Throw<PinnException>().WithMessage("*outside*");
        FluentActions.Invoking(() => SchrodingerAnalytic.FiniteWellEnergies(10, 1.5, 2)).Should().Throw<PinnException>().WithMessage("*width*");
        FluentActions.Invoking(() => SchrodingerAnalytic.FiniteBarrierEnergies(-1, 0.5, 2)).Should().Throw<PinnException>().WithMessage("*V0*");
    }

    [Fact]
    public void Solve_takes_milliseconds()
    {
        // Three grids (960, 1920, 3840 intervals), 4 states: measured 20–80 ms on 2 shared cores; MathNet's dense Evd took 9.8 s
        // for the coarsest grid alone. The bound only catches an accidental O(n²).
        SchrodingerSolver.Solve(SchrodingerAnalytic.FiniteWell(100, 0.5), 0, 1, 4);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        SchrodingerSolver.Solve(SchrodingerAnalytic.FiniteWell(100, 0.5), 0, 1, 4);
        output.WriteLine($"solve: {watch.Elapsed.TotalMilliseconds:F1} ms");
        watch.Elapsed.TotalSeconds.Should().BeLessThan(2);
    }
}
