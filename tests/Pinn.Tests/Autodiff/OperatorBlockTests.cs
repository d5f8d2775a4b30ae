using Pinn.Autodiff;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.Symbolic;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Autodiff;

/// <summary>
/// A residual's linear part carried as one jet block (L u = Σ c_d d): which derivatives qualify, and that
/// residual values and parameter gradients stay those of nested autograd.
/// </summary>
public class OperatorBlockTests
{
    static readonly Dictionary<string, double> Nu = new() { ["nu"] = 0.01 };
    static Expr Parse(string text, params string[] coords) => ExprParser.ParseExpr(text, new SymbolTable(coords, ["u"], ["nu"]));
    static FieldDerivative D(params string[] wrt) => new("u", wrt);

    [Fact]
    public void Burgers_reads_u_t_and_u_xx_only_through_u_t_minus_nu_u_xx()
    {
        var op = LinearPart.Find([Parse("u_t + u*u_x - nu*u_xx", "x", "t")], "u", Nu)!;
        op.Members.Should().BeEquivalentTo([D("t"), D("x", "x")]);
        op.Coefficients[op.Members.ToList().IndexOf(D("t"))].Should().Be(1);
        op.Coefficients[op.Members.ToList().IndexOf(D("x", "x"))].Should().BeApproximately(-0.01, 1e-15);
        op.Pivot.Should().Be(D("t"), "the largest coefficient stands for the operator");
    }

    [Theory]
    [InlineData("u_t*u_xx + u_x", "a product of two candidates is not linear")]
    [InlineData("u_t + sin(u_xx)", "inside a nonlinear function")]
    [InlineData("u_t + x*u_xx", "a coefficient that varies in space")]
    [InlineData("u_t + u*u_xx", "a coefficient that depends on the field")]
    public void Nonlinear_or_variable_coefficient_uses_are_not_grouped(string residual, string why)
    {
        LinearPart.Find([Parse(residual, "x", "t")], "u", Nu).Should().BeNull(why);
    }

    [Fact]
    public void Several_expressions_must_read_the_members_through_one_combination()
    {
        LinearPart.Find([Parse("u_t - nu*u_xx", "x", "t"), Parse("2*u_t - 2*nu*u_xx + u", "x", "t")], "u", Nu).Should().NotBeNull();
        LinearPart.Find([Parse("u_t - nu*u_xx", "x", "t"), Parse("u_t + u_xx", "x", "t")], "u", Nu).Should().BeNull();
    }

    [Theory]
    [InlineData("u_t + u*u_x - nu*u_xx", new[] { "x", "t" }, 3, "mlp")]                 // u, u_x, L u instead of 4 blocks
    [InlineData("u_t + u*u_x - nu*u_xx", new[] { "x", "t" }, 3, "modified_mlp")]        // the gate's product rule on L too
    [InlineData("u_xx + u_yy + sin(x)*sin(y)", new[] { "x", "y" }, 4, "mlp")]          // u, u_x, u_y, Δu instead of 5
    [InlineData("u_t + u*u_x + u_xx + u_xxxx", new[] { "x", "t" }, 5, "mlp")]          // KS: u, u_x, u_xx, u_xxx, L u instead of 6
    [InlineData("u_t + u*u_x + u_xx + u_xxxx", new[] { "x", "t" }, 5, "modified_mlp")]
    public void Operator_blocks_give_autograd_residuals_and_parameter_gradients(string residual, string[] coords, int blocks, string type)
    {
        Axis[] axes = [new(coords[0], -1, 1), new(coords[1], 0, 2)];
        using var net = new NeuralField(new ModelOptions { Type = type, Layers = [16, 16] }, axes, outputDim: 1, seed: 3);
        net.to(ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var g = new Generator(13);
        var points = stack([rand(50, dtype: ScalarType.Float64, generator: g) * 2 - 1, rand(50, dtype: ScalarType.Float64, generator: g) * 2], 1).requires_grad_(true);
        var expr = Parse(residual, coords);
        var op = LinearPart.Find([expr], "u", Nu)!;
        var needed = expr.Descendants().OfType<FieldDerivative>().Select(d => MultiIndex.Of(d, coords));
        var set = MultiIndex.Closure(needed.Append(MultiIndex.Zero));

        var jets = new JetFieldProvider(net, points, set, coords, ["u"], n => tensor(Nu[n], dtype: ScalarType.Float64), op);
        var viaJets = new TensorEvaluator(jets).Evaluate(expr);
        jets.CarriesOperator.Should().BeTrue();
        (jets.Carried.Count + 1).Should().Be(blocks);
        var auto = new AutogradFieldProvider(points, net.Forward(points), coords, ["u"], n => tensor(Nu[n], dtype: ScalarType.Float64));
        var viaAutograd = new TensorEvaluator(auto).Evaluate(expr);
        TensorChecks.RelativeMaxDifference(viaJets, viaAutograd).Should().BeLessThan(1e-10);

        var parameters = net.parameters().ToList<Tensor>();
        var gj = TensorChecks.Of(viaJets.square().mean(), parameters);
        var ga = TensorChecks.Of(viaAutograd.square().mean(), parameters);
        for (int i = 0; i < parameters.Count; i++)
            TensorChecks.RelativeMaxDifference(gj[i], ga[i]).Should().BeLessThan(1e-10, $"parameter {i}");
    }

    [Fact]
    public void The_trainer_finds_the_operator_for_Burgers_interior_points_only()
    {
        var problem = new Pinn.Problems.Burgers1D();
        using var net = new NeuralField(new ModelOptions { Layers = [8] }, problem.Domain.Axes, 1, 0);
        using var trainer = new Pinn.Training.Trainer(problem, net, new Pinn.Training.TrainingOptions { Derivatives = "jet" }, ScalarType.Float32, CPU);
        var found = Pinn.Training.DerivativeEngine.LinearOperators(trainer.Terms, problem);
        found.Should().ContainSingle();
        found[0].Set.Should().BeSameAs(trainer.Terms.OfType<Pinn.Training.ResidualTerm>().Single(t => t.Kind == "pde").Points);
        found[0].Operator.Members.Should().BeEquivalentTo([D("t"), D("x", "x")]);
    }
}
