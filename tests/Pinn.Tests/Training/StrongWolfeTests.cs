using Pinn.Training.Optimizers;
using static Pinn.Tests.Training.OptimizerTestFunctions;

namespace Pinn.Tests.Training;

/// <summary>The strong-Wolfe line search as pure scalar logic over plain C# functions φ(α).</summary>
public class StrongWolfeTests
{
    static readonly StrongWolfeOptions Defaults = new();

    /// <summary>Wraps φ so a test sees every trial the search made.</summary>
    sealed class Recorder(Func<double, LinePoint> phi)
    {
        public List<(double Alpha, LinePoint Point)> Trials { get; } = [];

        public LinePoint Evaluate(double alpha)
        {
            var p = phi(alpha);
            Trials.Add((alpha, p));
            return p;
        }
    }

    /// <summary>
    /// Checks (W1) and (W2) by evaluating φ again at the accepted step, and that the accepted step is the
    /// last one the search evaluated (the optimiser relies on that). Exact comparisons: φ is deterministic.
    /// </summary>
    static void ShouldSatisfyStrongWolfe(LineSearchResult r, Recorder recorder, Func<double, LinePoint> phi, LinePoint start)
    {
        r.Succeeded.Should().BeTrue(r.Failure);
        r.Step.Should().BePositive();
        var p = phi(r.Step);
        p.Should().Be(r.Accepted);
        p.Value.Should().BeLessThanOrEqualTo(start.Value + r.C1 * r.Step * start.Slope, "sufficient decrease (W1)");
        Math.Abs(p.Slope).Should().BeLessThanOrEqualTo(r.C2 * Math.Abs(start.Slope), "strong curvature condition (W2)");
        recorder.Trials[^1].Alpha.Should().Be(r.Step);
        r.Evaluations.Should().Be(recorder.Trials.Count);
    }

    [Fact]
    public void Accepted_steps_satisfy_both_strong_Wolfe_conditions_on_random_convex_quadratics()
    {
        var random = new Random(1301);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = random.Next(2, 12);
            var a = SymmetricPositiveDefinite(n, 1e-2, Math.Pow(10, random.Next(0, 5)), random);
            var x = GaussianVector(n, random);
            var g = Multiply(a, x);
            // Steepest descent half of the time, otherwise a random direction turned downhill.
            var d = trial % 2 == 0 ? g.Select(v => -v).ToArray() : GaussianVector(n, random);
            if (Dot(d, g) > 0) d = d.Select(v => -v).ToArray();
            LinePoint Phi(double alpha)
            {
                var z = x.Zip(d, (xi, di) => xi + alpha * di).ToArray();
                var gz = Multiply(a, z);
                return new LinePoint(0.5 * Dot(z, gz), Dot(gz, d));
            }
            var start = Phi(0);
            // Initial steps from far too short (expansion) to far too long (zoom).
            double alpha1 = Math.Pow(10, random.Next(-4, 4));
            var recorder = new Recorder(Phi);
            var r = StrongWolfeLineSearch.Search(recorder.Evaluate, start, alpha1, Defaults);
            ShouldSatisfyStrongWolfe(r, recorder, Phi, start);
        }
    }

    [Fact]
    public void Accepted_steps_satisfy_both_strong_Wolfe_conditions_along_Rosenbrock_descent_paths()
    {
        // Steepest descent with the strong-Wolfe search, 40 steps from each start: every accepted step is
        // checked by an independent evaluation of φ.
        (double, double)[] starts = [(-1.2, 1), (0, 0), (2, 2), (-1.5, 2.5), (1.5, -0.5), (0.3, 1.8)];
        foreach (var (x0, y0) in starts)
        {
            double x = x0, y = y0;
            double? previous = null;
            for (int k = 0; k < 40; k++)
            {
                var (gx, gy) = RosenbrockGradient(x, y);
                double dx = -gx, dy = -gy;
                double cx = x, cy = y;
                LinePoint Phi(double alpha)
                {
                    var (hx, hy) = RosenbrockGradient(cx + alpha * dx, cy + alpha * dy);
                    return new LinePoint(Rosenbrock(cx + alpha * dx, cy + alpha * dy), hx * dx + hy * dy);
                }
                var start = Phi(0);
                double alpha1 = StrongWolfeLineSearch.InitialStep(start.Value, previous, start.Slope, Math.Sqrt(gx * gx + gy * gy), Defaults);
                var recorder = new Recorder(Phi);
                var r = StrongWolfeLineSearch.Search(recorder.Evaluate, start, alpha1, Defaults);
                ShouldSatisfyStrongWolfe(r, recorder, Phi, start);
                previous = start.Value;
                x += r.Step * dx;
                y += r.Step * dy;
            }
            Rosenbrock(x, y).Should().BeLessThan(Rosenbrock(x0, y0));
        }
    }

    [Fact]
    public void Zoom_lands_on_the_minimiser_of_a_parabola_by_quadratic_interpolation()
    {
        // φ = (α − 0.3)²: α = 1 violates (W1), so zoom(0, 1); the quadratic through φ(0), φ′(0), φ(1) is φ
        // itself, its minimiser 0.3 lies inside the 10 % safeguard band, and φ′(0.3) = 0 is accepted.
        var recorder = new Recorder(a => new LinePoint((a - 0.3) * (a - 0.3), 2 * (a - 0.3)));
        var r = StrongWolfeLineSearch.Search(recorder.Evaluate, new LinePoint(0.09, -0.6), 1, Defaults);
        r.Succeeded.Should().BeTrue();
        r.Evaluations.Should().Be(2);
        r.Step.Should().BeApproximately(0.3, 1e-15);
    }

    [Fact]
    public void Bracketing_expands_the_step_until_the_curvature_condition_holds()
    {
        // φ = (α − 50)²/100, φ′(α) = α/50 − 1: from α = 1 the trials 1, 2, 4 have |φ′| > 0.9 and φ
        // decreasing, so the step doubles; |φ′(8)| = 0.84 ≤ 0.9 is accepted.
        var recorder = new Recorder(a => new LinePoint((a - 50) * (a - 50) / 100, (a - 50) / 50));
        var r = StrongWolfeLineSearch.Search(recorder.Evaluate, new LinePoint(25, -1), 1, Defaults);
        r.Succeeded.Should().BeTrue();
        recorder.Trials.Select(t => t.Alpha).Should().Equal(1, 2, 4, 8);
        r.Step.Should().Be(8);
    }

    [Fact]
    public void The_c2_chain_retries_with_the_next_attempt_when_one_runs_out_of_iterations()
    {
        // φ = (α − m)²/(2m) − m/2 with m = 3·2¹⁶, φ′(0) = −1, from α = 1 by doubling. |φ′(2^k)| = 1 − 2^k/m:
        // 2^15 (the 16th trial) is the first with |φ′| ≤ 0.9, beyond the first attempt's 15 evaluations and
        // the second's 10; the third (c2 = 0.5, 25 evaluations) accepts 2^17 (|φ′| = 1/3) at its 18th trial.
        const double m = 3 * 65536;
        var recorder = new Recorder(a => new LinePoint((a - m) * (a - m) / (2 * m) - m / 2, (a - m) / m));
        var r = StrongWolfeLineSearch.Search(recorder.Evaluate, new LinePoint(0, -1), 1, Defaults);
        r.Succeeded.Should().BeTrue();
        r.Attempts.Should().Be(3);
        r.C2.Should().Be(0.5);
        r.Step.Should().Be(131072);
        r.Evaluations.Should().Be(15 + 10 + 18);
    }

    [Fact]
    public void A_search_without_a_strong_Wolfe_step_fails_and_proposes_no_step()
    {
        // φ = −α is unbounded below: (W2) never holds and φ′ never turns, so every attempt exhausts its
        // bracketing budget: 15 + 10 + 25 evaluations.
        var linear = StrongWolfeLineSearch.Search(a => new LinePoint(-a, -1), new LinePoint(0, -1), 1, Defaults);
        linear.Succeeded.Should().BeFalse();
        linear.Step.Should().Be(0);
        linear.Evaluations.Should().Be(50);
        linear.Failure.Should().Contain("bracketing");

        // φ = |α − 0.3| has slope ±1 everywhere, so (W2) fails at every trial and zoom shrinks onto the kink.
        var kink = StrongWolfeLineSearch.Search(a => new LinePoint(Math.Abs(a - 0.3), Math.Sign(a - 0.3)), new LinePoint(0.3, -1), 1, Defaults);
        kink.Succeeded.Should().BeFalse();
        kink.Step.Should().Be(0);
        kink.Failure.Should().Contain("zoom");
    }

    [Fact]
    public void A_direction_that_is_not_downhill_is_refused_without_evaluating()
    {
        int calls = 0;
        var r = StrongWolfeLineSearch.Search(a => { calls++; return new LinePoint(a, 1); }, new LinePoint(0, 1), 1, Defaults);
        r.Succeeded.Should().BeFalse();
        r.Failure.Should().Contain("descent");
        calls.Should().Be(0);
    }

    [Fact]
    public void Non_finite_trial_values_shrink_the_bracket_instead_of_ending_the_search()
    {
        // φ = (α − 0.4)² below 0.5 and NaN beyond: the trial at 1 is treated as a (W1) failure.
        Func<double, LinePoint> phi = a => a > 0.5 ? new LinePoint(double.NaN, double.NaN) : new LinePoint((a - 0.4) * (a - 0.4), 2 * (a - 0.4));
        var recorder = new Recorder(phi);
        var start = phi(0);
        var r = StrongWolfeLineSearch.Search(recorder.Evaluate, start, 1, Defaults);
        ShouldSatisfyStrongWolfe(r, recorder, phi, start);
    }

    [Fact]
    public void The_initial_step_follows_the_previous_decrease_and_falls_back_to_one()
    {
        // α₁ = min(1, 1.01 · 2(f − f_prev)/φ′(0)).
        StrongWolfeLineSearch.InitialStep(1.0, 1.5, -10, 99, Defaults).Should().BeApproximately(0.101, 1e-15);
        StrongWolfeLineSearch.InitialStep(1.0, 100, -1, 99, Defaults).Should().Be(1);
        // Without a previous value f_prev = f + ‖g‖/2: α₁ = 1.01 ‖g‖ / (gᵀHg) when φ′(0) = −gᵀHg.
        StrongWolfeLineSearch.InitialStep(1.0, null, -40, 2, Defaults).Should().BeApproximately(1.01 * 2 / 40, 1e-15);
        // A stale previous value below f (a changed loss, trap 3) would give a negative step; NaN likewise.
        StrongWolfeLineSearch.InitialStep(1.0, 0.5, -1, 1, Defaults).Should().Be(1);
        StrongWolfeLineSearch.InitialStep(1.0, double.NaN, -1, 1, Defaults).Should().Be(1);
    }
}
