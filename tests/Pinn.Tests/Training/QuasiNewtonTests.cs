using Pinn.Training.Optimizers;
using TorchSharp;
using static Pinn.Tests.Training.OptimizerTestFunctions;
using static TorchSharp.torch;

namespace Pinn.Tests.Training;

/// <summary>Dense BFGS / SSBFGS / SSBroyden: the update algebra, convergence, restarts and exact resume.</summary>
public class QuasiNewtonTests
{
    public static TheoryData<QuasiNewtonMethod> Methods => new() { QuasiNewtonMethod.Bfgs, QuasiNewtonMethod.SsBfgs, QuasiNewtonMethod.SsBroyden };

    static QuasiNewtonOptions Options(QuasiNewtonMethod method) => new() { Method = method };

    static double RelativeSecantError(Tensor h, Tensor s, Tensor y) => ((h.mv(y) - s).norm() / s.norm()).ToDouble();

    static void ShouldBeSymmetricPositiveDefinite(Tensor h)
    {
        // The rank-2 update is one gemm, whose (i, j) and (j, i) entries round differently: a few ulps.
        double asymmetry = (h - h.t()).abs().max().ToDouble(), scale = h.abs().max().ToDouble();
        asymmetry.Should().BeLessThanOrEqualTo(1e-14 * scale);
        var eigenvalues = linalg.eigvalsh(0.5 * (h + h.t()));
        eigenvalues.min().ToDouble().Should().BePositive();
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void With_an_exact_line_search_a_quadratic_is_minimised_in_at_most_n_iterations(QuasiNewtonMethod method)
    {
        // Broyden-family methods with exact line searches generate A-conjugate directions and, scalar
        // scaling of H aside, the same iterates (Dixon's theorem; Nocedal & Wright Thm 6.4 for BFGS), so x_n is
        // the minimiser. α = −gᵀp / pᵀAp is exact for f = ½xᵀAx. H₀ = I without initial scaling: observed
        // ‖g_n‖/‖g₀‖ ≤ 1e-16 for all three methods over several seeds. (With initial scaling H₀ ≈ I/λ_max
        // underestimates A⁻¹ and rounding grows ~30× per step: ~1e-9 — the textbook formula does the same.)
        using var scope = NewDisposeScope();
        const int n = 8;
        var random = new Random(13);
        var a = Matrix(SymmetricPositiveDefinite(n, 1, 100, random));
        var x = Vector(GaussianVector(n, random));
        var h = eye(n, dtype: ScalarType.Float64);
        var g = a.mv(x);
        double g0 = g.norm().ToDouble();
        var options = Options(method);
        for (int k = 0; k < n; k++)
        {
            var p = -h.mv(g);
            double alpha = -g.dot(p).ToDouble() / p.dot(a.mv(p)).ToDouble();
            var s = alpha * p;
            x = x + s;
            var gNew = a.mv(x);
            var report = InverseHessianUpdate.Apply(h, s, gNew - g, g, alpha, identityScaling: false, options);
            report.Applied.Should().BeTrue(report.SkipReason);
            g = gNew;
        }
        // 1e-12: four orders of margin over the observed 1e-16 (rounding ~ eps · cond(A)^k could differ per BLAS).
        g.norm().ToDouble().Should().BeLessThan(1e-12 * g0);
        if (method == QuasiNewtonMethod.Bfgs)
        {
            // After n exact BFGS steps on a quadratic H_n = A⁻¹ (N&W §6.1); observed 7e-16 relative.
            var inverse = linalg.inv(a);
            ((h - inverse).norm() / inverse.norm()).ToDouble().Should().BeLessThan(1e-12);
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Updates_satisfy_the_secant_equation_and_keep_H_symmetric_positive_definite(QuasiNewtonMethod method)
    {
        using var scope = NewDisposeScope();
        var random = new Random(31);
        var options = Options(method);
        int broydenFamilyCases = 0;
        for (int trial = 0; trial < 20; trial++)
        {
            const int p = 30;
            bool identity = trial % 5 == 0; // the first update after H = I, with initial scaling
            var h = identity ? eye(p, dtype: ScalarType.Float64) : Matrix(SymmetricPositiveDefinite(p, 1e-2, 10, random));
            var hessian = Matrix(SymmetricPositiveDefinite(p, 1e-1, Math.Pow(10, random.Next(1, 4)), random));
            var g = Vector(GaussianVector(p, random));
            double alpha = 0.25 + 2 * random.NextDouble();
            var s = -alpha * h.mv(g);           // s = α p with p = −Hg, as in the optimiser
            var y = hessian.mv(s);              // sᵀy = sᵀ∇²f s > 0
            var report = InverseHessianUpdate.Apply(h, s, y, g, alpha, identity, options);
            report.Applied.Should().BeTrue(report.SkipReason);
            report.A.Should().BeGreaterThan(-1e-12, "a ≥ 0 by Cauchy–Schwarz");
            if (method == QuasiNewtonMethod.SsBroyden && !report.Guarded && report.Phi != 1) broydenFamilyCases++;
            // H⁺y = s holds exactly in exact arithmetic; in float64 the error is a few eps · cond(H⁺) ≈ 1e-13.
            RelativeSecantError(h, s, y).Should().BeLessThan(1e-10);
            ShouldBeSymmetricPositiveDefinite(h);
        }
        if (method == QuasiNewtonMethod.SsBroyden) broydenFamilyCases.Should().BePositive("the θ rule, not only its BFGS member, must be exercised");
    }

    [Fact]
    public void SsBroyden_guards_the_degenerate_case_where_Hy_is_parallel_to_s()
    {
        using var scope = NewDisposeScope();
        var random = new Random(7);
        const int p = 20;
        var options = Options(QuasiNewtonMethod.SsBroyden);

        // H = A⁻¹ and y = A s: Hy = s up to rounding, so a = bh − 1 is ~1e-16 of either sign (§3.6), where
        // θ⁻ = (ρ⁻ − 1)/a would be ~1e15 and destroy H.
        var a = Matrix(SymmetricPositiveDefinite(p, 0.5, 20, random));
        var h = linalg.inv(a);
        h = 0.5 * (h + h.t());
        var g = Vector(GaussianVector(p, random));
        var s = -0.8 * h.mv(g);
        var y = a.mv(s);
        var report = InverseHessianUpdate.Apply(h, s, y, g, 0.8, identityScaling: false, options);
        report.Applied.Should().BeTrue(report.SkipReason);
        Math.Abs(report.A).Should().BeLessThan(1e-10);
        report.Guarded.Should().BeTrue();
        report.Theta.Should().Be(0);
        RelativeSecantError(h, s, y).Should().BeLessThan(1e-10);
        ShouldBeSymmetricPositiveDefinite(h);

        // H = I and y ∥ s: a = (sᵀs yᵀy)/(sᵀy)² − 1 = 0 up to rounding.
        var h2 = eye(p, dtype: ScalarType.Float64);
        var g2 = Vector(GaussianVector(p, random));
        var s2 = -1.0 * g2;
        var y2 = 3.0 * s2;
        var report2 = InverseHessianUpdate.Apply(h2, s2, y2, g2, 1.0, identityScaling: false, options);
        report2.Guarded.Should().BeTrue();
        RelativeSecantError(h2, s2, y2).Should().BeLessThan(1e-12);
        ShouldBeSymmetricPositiveDefinite(h2);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Each_method_minimises_the_Rosenbrock_function_from_several_starts(QuasiNewtonMethod method)
    {
        using var scope = NewDisposeScope();
        (double, double)[] starts = [(-1.2, 1), (2, 2), (-1.5, 2.5), (0, 0)];
        foreach (var (x0, y0) in starts)
        {
            using var q = new DenseQuasiNewton(new RosenbrockObjective(), Vector(x0, y0), Options(method));
            var steps = new List<QuasiNewtonStep>();
            var r = q.Minimize(200, gradientTolerance: 1e-8, steps.Add);
            r.StopReason.Should().Be("gradient tolerance");
            r.GradientNorm.Should().BeLessThan(1e-8);
            // Observed 22–48 iterations (BFGS from (−1.2, 1): 37, as in the textbooks); 100 is the bound.
            r.Iterations.Should().BeLessThan(100);
            steps.Should().OnlyContain(s => s.Moved && s.LineSearch!.Succeeded);
            foreach (var s in steps) WolfeHolds(s.LineSearch!).Should().BeTrue();
            // |g| < 1e-8 near the minimum (Hessian eigenvalues 0.4 and 1002) means |x − x*| ≲ 1e-8 / 0.4.
            Values(q.X).Should().OnlyContain(v => Math.Abs(v - 1) < 1e-7);
        }
    }

    static bool WolfeHolds(LineSearchResult r) =>
        r.Accepted.Value <= r.Start.Value + r.C1 * r.Step * r.Start.Slope && Math.Abs(r.Accepted.Slope) <= r.C2 * Math.Abs(r.Start.Slope);

    [Theory]
    [MemberData(nameof(Methods))]
    public void Each_method_minimises_an_ill_conditioned_10d_quadratic(QuasiNewtonMethod method)
    {
        using var scope = NewDisposeScope();
        var random = new Random(10);
        // Eigenvalues from 1e-3 to 1e3 (condition 1e6); f = ½xᵀAx has its minimum 0 at 0, so f keeps full
        // relative accuracy near the minimum and the Wolfe tests stay meaningful down to |g| ~ 1e-8.
        var objective = new QuadraticObjective(Matrix(SymmetricPositiveDefinite(10, 1e-3, 1e3, random)));
        using var q = new DenseQuasiNewton(objective, Vector(GaussianVector(10, random)), Options(method));
        var r = q.Minimize(400, gradientTolerance: 1e-8);
        r.StopReason.Should().Be("gradient tolerance");
        r.GradientNorm.Should().BeLessThan(1e-8);
        // Observed: BFGS 134 iterations (its H₀ = (sᵀy/yᵀy) I underestimates A⁻¹ along the small eigenvalues,
        // which BFGS corrects slowly), SSBFGS 68, SSBroyden 58; 200 is the bound.
        r.Iterations.Should().BeLessThan(200);
        r.Evaluations.Should().Be(objective.Calls);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Saving_and_loading_the_state_mid_run_continues_bit_identically(QuasiNewtonMethod method)
    {
        using var scope = NewDisposeScope();
        var options = Options(method);
        using var q = new DenseQuasiNewton(new RosenbrockObjective(), Vector(-1.2, 1), options);
        for (int k = 0; k < 6; k++) q.Step();
        q.KeepCurvatureAfterResample(); // a restart in the saved history: f_{k−1} forgotten, H symmetrised
        for (int k = 0; k < 4; k++) q.Step();
        using var saved = new MemoryStream();
        using (var w = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) q.SaveState(w);

        var uninterrupted = new List<double[]>();
        for (int k = 0; k < 12; k++) { q.Step(); uninterrupted.Add(Values(q.X)); }

        saved.Position = 0;
        using var r = new BinaryReader(saved);
        using var resumed = DenseQuasiNewton.Resume(new RosenbrockObjective(), r, options);
        var continued = new List<double[]>();
        for (int k = 0; k < 12; k++) { resumed.Step(); continued.Add(Values(resumed.X)); }

        for (int k = 0; k < 12; k++) continued[k].Should().Equal(uninterrupted[k]); // exact doubles
        Values(resumed.InverseHessian).Should().Equal(Values(q.InverseHessian));
        resumed.Evaluations.Should().Be(q.Evaluations);
        resumed.Iterations.Should().Be(q.Iterations);
    }

    sealed class RecordingObjective(IObjective inner) : IObjective
    {
        public List<double[]> Points { get; } = [];

        public (double Value, Tensor Gradient) Evaluate(Tensor x)
        {
            Points.Add(Values(x));
            return inner.Evaluate(x);
        }
    }

    [Fact]
    public void The_restart_after_a_resample_keeps_a_positive_definite_H_and_forgets_the_previous_value()
    {
        using var scope = NewDisposeScope();
        var objective = new RecordingObjective(new RosenbrockObjective());
        using var q = new DenseQuasiNewton(objective, Vector(-1.2, 1), Options(QuasiNewtonMethod.SsBroyden));
        for (int k = 0; k < 8; k++) q.Step();
        var before = 0.5 * (q.InverseHessian + q.InverseHessian.t());
        q.KeepCurvatureAfterResample().Should().Be(CurvatureCheck.Kept);
        Values(q.InverseHessian).Should().Equal(Values(before));
        Values(q.InverseHessian).Should().Equal(Values(q.InverseHessian.t().contiguous()));

        // The first trial is the fresh-cycle step α₁ = min(1, 1.01 ‖g‖ / gᵀHg) of §2.2.
        var x = q.X.clone();
        var p = -q.InverseHessian.mv(q.Gradient);
        double expected = Math.Min(1, 1.01 * q.GradientNorm / -q.Gradient.dot(p).ToDouble());
        int seen = objective.Points.Count;
        q.Step();
        var firstTrial = Vector(objective.Points[seen]);
        ((firstTrial - x).norm() / p.norm()).ToDouble().Should().BeApproximately(expected, 1e-12 * expected);
    }

    [Fact]
    public void The_restart_resets_H_that_is_not_finite_or_not_positive_definite()
    {
        using var scope = NewDisposeScope();
        using var q = new DenseQuasiNewton(new RosenbrockObjective(), Vector(-1.2, 1), Options(QuasiNewtonMethod.SsBroyden));
        var identity = Values(eye(2, dtype: ScalarType.Float64));
        q.Step(); q.Step();
        q.InverseHessian[0, 1] = tensor(double.NaN);
        q.KeepCurvatureAfterResample().Should().Be(CurvatureCheck.ResetNotFinite);
        Values(q.InverseHessian).Should().Equal(identity);

        q.Step(); q.Step();
        q.InverseHessian.copy_(Matrix(new double[,] { { 1, 2 }, { 2, 1 } })); // symmetric, eigenvalues 3 and −1
        q.KeepCurvatureAfterResample().Should().Be(CurvatureCheck.ResetNotPositiveDefinite);
        Values(q.InverseHessian).Should().Equal(identity);
    }

    [Fact]
    public void Two_cycles_in_a_row_that_fail_at_once_reset_H_at_the_next_restart()
    {
        using var scope = NewDisposeScope();
        using var q = new DenseQuasiNewton(new LinearObjective([1, -2, 0.5]), Vector(0.1, 0.2, 0.3));
        q.Step().Moved.Should().BeFalse();
        q.KeepCurvatureAfterResample().Should().Be(CurvatureCheck.Kept);
        q.Step().Moved.Should().BeFalse();
        q.KeepCurvatureAfterResample().Should().Be(CurvatureCheck.ResetAfterFailures);
    }

    [Fact]
    public void A_failed_line_search_takes_no_step()
    {
        using var scope = NewDisposeScope();
        using var q = new DenseQuasiNewton(new LinearObjective([1, -2, 0.5]), Vector(0.1, 0.2, 0.3));
        var x = Values(q.X);
        double f = q.Value;
        var step = q.Step();
        step.Moved.Should().BeFalse();
        step.LineSearch!.Succeeded.Should().BeFalse();
        step.Failure.Should().Contain("bracketing");
        Values(q.X).Should().Equal(x);
        q.Value.Should().Be(f);
        q.Iterations.Should().Be(0);
        q.LineSearchFailures.Should().Be(1);
        q.Evaluations.Should().Be(1 + 15 + 10 + 25); // the start, then every attempt of the c2 chain
        q.Minimize(10).StopReason.Should().Contain("bracketing");
    }

    [Fact]
    public void A_direction_that_is_not_downhill_resets_H_to_the_identity()
    {
        using var scope = NewDisposeScope();
        using var q = new DenseQuasiNewton(new RosenbrockObjective(), Vector(-1.2, 1));
        q.InverseHessian.copy_(-eye(2, dtype: ScalarType.Float64));
        var step = q.Step();
        step.ResetToIdentity.Should().BeTrue();
        step.Moved.Should().BeTrue();
        q.Resets.Should().Be(1);
    }

    [Fact]
    public void Networks_above_the_dense_limit_are_refused_with_a_pointer_to_LBFGS()
    {
        using var scope = NewDisposeScope();
        var act = () => new DenseQuasiNewton(new LinearObjective(new double[6001]), zeros(6001, dtype: ScalarType.Float64));
        act.Should().Throw<PinnException>().WithMessage("*6001 parameters*limit of 6000*L-BFGS*");
        var small = () => new DenseQuasiNewton(new LinearObjective(new double[11]), zeros(11, dtype: ScalarType.Float64), new QuasiNewtonOptions { MaxParameters = 10 });
        small.Should().Throw<PinnException>();
    }

    [Fact]
    public void Model_parameters_are_minimised_through_the_flat_parameter_objective()
    {
        using var scope = NewDisposeScope();
        var a = new TorchSharp.Modules.Parameter(tensor(new[] { -1.2 }, dtype: ScalarType.Float64));
        var b = new TorchSharp.Modules.Parameter(tensor(new[,] { { 1.0 } }, dtype: ScalarType.Float64));
        int calls = 0;
        var objective = new ParameterObjective([a, b], () =>
        {
            calls++;
            return ((1 - a[0]).square() + 100 * (b[0, 0] - a[0].square()).square());
        });
        objective.Count.Should().Be(2);
        using var q = new DenseQuasiNewton(objective, objective.Flatten());
        var r = q.Minimize(200, gradientTolerance: 1e-8);
        r.GradientNorm.Should().BeLessThan(1e-8);
        r.Evaluations.Should().Be(calls);
        objective.Assign(q.X);
        a.ToDouble().Should().BeApproximately(1, 1e-7);
        b.ToDouble().Should().BeApproximately(1, 1e-7);

        var f32 = new TorchSharp.Modules.Parameter(zeros(3));
        var act = () => new ParameterObjective([f32], () => f32.sum());
        act.Should().Throw<PinnException>().WithMessage("*float64*");
    }
}
