using Pinn.Config;
using Pinn.Problems;

namespace Pinn.Tests.Symbolic;

public class ProblemDefinitionTests
{
    [Fact]
    public void Yaml_definition_builds_the_same_trees_as_the_CSharp_class()
    {
        var yaml = RunConfigLoader.Load(TestPaths.Problem("heat1d/heat1d_inline.yaml"), ProblemCatalog.Instance).Problem;
        var cs = new Heat1D();
        yaml.Equations.Single().Equation.Residual.Equals(cs.Equations.Single().Equation.Residual).Should().BeTrue();
        yaml.Conditions.Zip(cs.Conditions).Should().OnlyContain(p =>
            ((PointwiseCondition)p.First).Equation.Residual.Equals(((PointwiseCondition)p.Second).Equation.Residual));
        yaml.ExactSolution["u"].Equals(cs.ExactSolution["u"]).Should().BeTrue();
        yaml.Domain.ToString().Should().Be(cs.Domain.ToString());
    }

    [Fact]
    public void Neumann_condition_uses_the_outward_normal()
    {
        var p = new NeumannProblem();
        var conds = p.Conditions.Cast<PointwiseCondition>().ToArray();
        conds.Select(c => c.Region.ToString()).Should().Equal("x_min", "x_max");
        conds[0].Equation.ToString().Should().Be("-u_x = 1");
        conds[1].Equation.ToString().Should().Be("u_x = 1");
    }

    sealed class NeumannProblem : Problem
    {
        public override string Name => "neumann";
        public NeumannProblem()
        {
            Space("x", 0, 1);
            var u = Field("u");
            Equation(Pinn.Symbolic.Sym.Dxx(u) == 0);
            Neumann(Pinn.Geometry.Region.Boundary, u, 1);
        }
    }

    [Fact]
    public void Validation_catches_an_undeclared_coordinate_in_a_CSharp_problem()
    {
        var act = () => new TypoProblem().Validate();
        act.Should().Throw<PinnException>().WithMessage("*u_y differentiates by 'y', which is not a coordinate*");
    }

    sealed class TypoProblem : Problem
    {
        public override string Name => "typo";
        public TypoProblem()
        {
            Space("x", 0, 1);
            var u = Field("u");
            Equation(Pinn.Symbolic.Sym.Dy(u) == 0);
        }
    }
}
