using Pinn.Gp;
using Pinn.Problems;
using static Pinn.Symbolic.Sym;

namespace Pinn.Tests.Gp;

/// <summary>The GP reproduction's classical baseline: a second-order finite-difference solve on the GP's grid.</summary>
public class FiniteDifferenceBaselineTests
{
    [Fact]
    public void Quadratics_are_solved_to_rounding_in_one_Newton_step_in_1D_and_2D()
    {
        // The three-point second difference is exact on quadratics: only rounding remains.
        var one = FiniteDifferenceBaseline.Solve(HighFrequencyBenchmark.Poisson1D("q1", 0, 2, x => x * x - 3 * x + 1), [41]);
        one.NotApplicable.Should().BeNull();
        one.RelativeL2.Should().BeLessThan(1e-11);
        one.NewtonSteps.Should().Be(1, "the problem is linear");
        var two = FiniteDifferenceBaseline.Solve(HighFrequencyBenchmark.Poisson2D("q2", 0, 1, (x, y) => x * x + 2 * y * y - x * y + 1), [33, 29]);
        two.NotApplicable.Should().BeNull();
        two.RelativeL2.Should().BeLessThan(1e-11);
        two.KrylovIterations.Should().BeLessThan(40, "Poisson with Dirichlet data is what the preconditioner inverts exactly, up to its mixed term");
    }

    [Theory]
    [InlineData("poisson1d_sin20", 1, 201)]
    [InlineData("poisson2d_smooth", 2, 61)]
    [InlineData("allen_cahn1d_sin100", 1, 801)]
    public void The_error_falls_fourfold_when_the_spacing_halves(string name, int dim, int n)
    {
        var coarse = FiniteDifferenceBaseline.Solve(ProblemCatalog.Instance.Create(name)!, Enumerable.Repeat(n, dim).ToArray());
        var fine = FiniteDifferenceBaseline.Solve(ProblemCatalog.Instance.Create(name)!, Enumerable.Repeat(2 * n - 1, dim).ToArray());
        coarse.NotApplicable.Should().BeNull();
        double ratio = coarse.RelativeL2 / fine.RelativeL2;
        ratio.Should().BeInRange(3.6, 4.4, $"second order: {coarse.RelativeL2:G3} → {fine.RelativeL2:G3}");
    }

    [Fact]
    public void A_nonlinear_problem_takes_several_Newton_steps()
    {
        var r = FiniteDifferenceBaseline.Solve(ProblemCatalog.Instance.Create("allen_cahn1d_sin100")!, [801]);
        r.NewtonSteps.Should().BeGreaterThan(1);
        // 8 nodes per period: the second difference's dispersion error (kh)²/12 ≈ 5% dominates, as for the linear Poisson
        // problem with the same solution on the same grid; Newton must land on that discrete solution, not a worse one.
        var linear = FiniteDifferenceBaseline.Solve(ProblemCatalog.Instance.Create("poisson1d_sin100")!, [801]);
        r.RelativeL2.Should().BeInRange(0.67 * linear.RelativeL2, 1.5 * linear.RelativeL2);
    }

    [Fact]
    public void An_operator_without_a_second_derivative_is_reported_not_solved()
    {
        var r = FiniteDifferenceBaseline.Solve(ProblemCatalog.Instance.Create("advection_sin200")!, [20, 50]);
        r.NotApplicable.Should().Contain("second-derivative");
        double.IsNaN(r.RelativeL2).Should().BeTrue();
    }
}
