using Pinn.Config;
using Pinn.Problems;
using Pinn.References;
using Pinn.Symbolic;

namespace Pinn.Tests.Problems;

/// <summary>Every problem with an exact solution: plugging it into the problem's own equations and conditions gives ~0.</summary>
public class ExactResidualTests
{
    public static TheoryData<string> ProblemsWithExactSolutions() =>
        new(new[] { "poisson1d", "poisson2d", "heat1d", "advection", "wave", "helmholtz2d", "klein_gordon", "flow_mixing" }.Concat(HighFrequencyBenchmark.All.Keys));

    [Theory]
    [MemberData(nameof(ProblemsWithExactSolutions))]
    public void Exact_solution_satisfies_equations_and_conditions(string name) =>
        AssertExactResidualsVanish(ProblemCatalog.Instance.Create(name)!);

    [Fact]
    public void Inline_yaml_heat_problem_has_vanishing_exact_residual_too()
    {
        var cfg = RunConfigLoader.Load(TestPaths.Problem("heat1d/heat1d_inline.yaml"), ProblemCatalog.Instance);
        AssertExactResidualsVanish(cfg.Problem);
    }

    internal static void AssertExactResidualsVanish(Problem problem)
    {
        problem.Validate();
        problem.ExactSolution.Should().NotBeEmpty();
        using var scope = TorchSharp.torch.NewDisposeScope();
        var sampler = new Pinn.Geometry.UniformSampler(7);
        void Check(Pinn.Geometry.Region region, Expr residual, string what)
        {
            var pts = problem.Domain.Sample(region, 200, sampler);
            var provider = new ExactSolutionProvider(problem.Domain.CoordinateNames, problem.ExactSolution, problem.ParameterValues,
                                                     ExactSolutionProvider.ToTensor(pts));
            var r = new TensorEvaluator(provider).Evaluate(residual).abs().max().item<double>();
            // Terms are O(π²·|u|) ≈ 20: float64 rounding leaves ~1e-14; 1e-10 catches any wrong sign or factor.
            r.Should().BeLessThan(1e-10, $"{what} of {problem.Name} at the exact solution");
        }
        foreach (var eq in problem.Equations) Check(Pinn.Geometry.Region.Interior, eq.Equation.Residual, $"equation {eq.Name}");
        foreach (var c in problem.Conditions.OfType<PointwiseCondition>()) Check(c.Region, c.Equation.Residual, $"condition {c.Name}");
    }
}
