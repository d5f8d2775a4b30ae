using Pinn.Config;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.Problems;
using Pinn.References;
using Pinn.Symbolic;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Tests.Training;

/// <summary>Integral constraints (Gauss–Legendre quadrature) and data terms (observations at fixed points).</summary>
public class ConstraintTermTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A fixed function of the points posing as a model, so integrals are known exactly.</summary>
    sealed class FunctionModel(int dim, Func<Tensor, Tensor> f) : IFieldModel
    {
        public int InputDim => dim;
        public int OutputDim => 1;
        public Tensor Forward(Tensor points) => f(points).unsqueeze(1);
        public IReadOnlyList<TorchParameter> TrainableParameters => [];
        public string Describe() => "function";
        public void Dispose() { }
    }

    static readonly SymbolTable Symbols1 = new(["x"], ["psi"], ["E"]);
    static readonly SymbolTable Symbols2 = new(["x", "t"], ["u"], [], ["x"]);

    [Fact]
    public void Integral_conditions_parse_integrals_means_axes_and_values()
    {
        var a = IntegralSyntax.Parse("integral(psi^2, x) = 1", Symbols1);
        a.Integrand.Should().Be(ExprParser.ParseExpr("psi^2", Symbols1));
        a.Axes.Should().Equal("x");
        a.Value.Should().Be(new Constant(1));
        a.Mean.Should().BeFalse();
        var m = IntegralSyntax.Parse("  mean(u)=0", Symbols2);
        m.Mean.Should().BeTrue();
        m.Axes.Should().Equal("x", "t"); // default: every coordinate
        var b = IntegralSyntax.Parse("integral(u*(x + 1), x) = exp(-t)", Symbols2);
        b.Axes.Should().Equal("x");
        b.Value.Should().Be(ExprParser.ParseExpr("exp(-t)", Symbols2));
        IntegralSyntax.Parse("integral(u)", Symbols2).Value.Should().Be(new Constant(0));
    }

    [Theory]
    [InlineData("integral(psi, z) = 1", "'z' is not a coordinate", 15)]
    [InlineData("integral(psi^2, x) + 1 = 2", "nothing may follow", 20)]
    [InlineData("integrl(psi) = 1", "integral(EXPR, x) = VALUE", 1)]
    [InlineData("integral(psi, x = 1", "unbalanced", 9)]
    [InlineData("integral(psj^2, x) = 1", "unknown symbol 'psj'", 10)]
    [InlineData("integral(psi^2, x) = F", "unknown symbol 'F'", 22)]
    public void A_malformed_integral_condition_names_the_problem_and_its_column(string text, string message, int column)
    {
        var act = () => IntegralSyntax.Parse(text, Symbols1);
        var e = act.Should().Throw<ExprParseException>().Which;
        e.Message.Should().Contain(message);
        e.Column.Should().Be(column);
    }

    static Tensor Residual(Box domain, IntegralCondition c, int nodes, Func<Tensor, Tensor> f)
    {
        using var term = new IntegralTerm(c, domain, nodes, 1, ScalarType.Float64, CPU);
        var ctx = new StepContext(new FunctionModel(domain.Dim, f), domain.CoordinateNames, ["u"], _ => tensor(2.0, dtype: ScalarType.Float64));
        return term.Residual(ctx).detach().clone();
    }

    [Fact]
    public void Gauss_Legendre_integrals_are_exact_to_rounding_for_smooth_integrands()
    {
        using var scope = NewDisposeScope();
        var line = new Interval("x", 0, 1);
        var u = Sym.Field("u");
        Func<Tensor, Tensor> sine = p => (Math.PI * p[TensorIndex.Colon, 0]).sin();
        // ∫₀¹ sin²(πx) dx = 1/2; ∫₀¹ (u_x)² dx = π²/2 (a derivative in the integrand); the mean of sin(πx) is 2/π.
        Residual(line, new IntegralCondition("n", u * u, ["x"], 1.0), 64, sine).item<double>().Should().BeApproximately(-0.5, 1e-14);
        Residual(line, new IntegralCondition("k", Sym.D(u, "x") * Sym.D(u, "x"), ["x"], 0.0), 64, sine).item<double>()
            .Should().BeApproximately(Math.PI * Math.PI / 2, 1e-12);
        Residual(line, new IntegralCondition("m", u, ["x"], Sym.Param("p"), Mean: true), 64, sine).item<double>()
            .Should().BeApproximately(2 / Math.PI - 2, 1e-14, "the right-hand side reads the parameter p = 2");
        // A known factor (a state already found, for deflation): ∫ sin(πx)·sin(2πx) dx = 0.
        var known = new IntegralCondition("o", u, ["x"], 0.0, Known: pts => Enumerable.Range(0, pts.GetLength(0)).Select(i => Math.Sin(2 * Math.PI * pts[i, 0])).ToArray());
        Residual(line, known, 64, sine).item<double>().Should().BeApproximately(0, 1e-15);
    }

    [Fact]
    public void An_integral_over_some_coordinates_holds_at_each_node_of_the_others()
    {
        using var scope = NewDisposeScope();
        var domain = new SpaceTime(new Interval("x", 0, 2), new Axis("t", 0, 3));
        var u = Sym.Field("u");
        Func<Tensor, Tensor> f = p => p[TensorIndex.Colon, 0] * p[TensorIndex.Colon, 1].exp(); // ∫₀² x eᵗ dx = 2eᵗ
        var r = Residual(domain, new IntegralCondition("c", u, ["x"], 2 * Sym.Exp(Sym.Coord("t"))), 16, f);
        r.shape.Should().Equal(16); // one residual per t node
        r.abs().max().item<double>().Should().BeLessThan(1e-13);
        var wrong = Residual(domain, new IntegralCondition("c", u, ["x"], Sym.Exp(Sym.Coord("t"))), 16, f);
        wrong.abs().max().item<double>().Should().BeApproximately(Math.Exp(3), 0.2 * Math.Exp(3), "eᵗ at the last Gauss node, near t = 3");
        // Over both coordinates: one residual, ∫∫ x eᵗ = 2(e³ − 1).
        var both = Residual(domain, new IntegralCondition("c", u, ["x", "t"], 0.0), 16, f);
        both.shape.Should().Equal(1);
        both.item<double>().Should().BeApproximately(2 * (Math.Exp(3) - 1), 1e-11);
    }

    [Fact]
    public void A_data_term_is_the_mean_squared_mismatch_at_its_points()
    {
        using var scope = NewDisposeScope();
        var pts = new double[,] { { 0.1 }, { 0.5 }, { 0.9 } };
        var values = new double[,] { { 0.1 + 0.3 }, { 0.5 - 0.3 }, { 0.9 + 0.3 } };
        var c = new ObservationCondition("obs", pts, ["u"], values, "test");
        using var term = new ObservationTerm(c, 4, ScalarType.Float64, CPU);
        var ctx = new StepContext(new FunctionModel(1, p => p[TensorIndex.Colon, 0]), ["x"], ["u"], _ => throw new InvalidOperationException());
        term.Loss(ctx).item<double>().Should().BeApproximately(0.09, 1e-15);
        var r = term.ScaledResiduals(ctx)!;
        (r.square().sum().item<double>()).Should().BeApproximately(4 * 0.09, 1e-15, "‖r̃‖² = weight · loss");
        term.ScaledResidualBlocks(ctx)!.Should().ContainSingle().Which.shape.Should().Equal(3); // a row per point: per-sample Jacobian rows
    }

    [Fact]
    public void Observations_are_a_seeded_subsample_with_noise_relative_to_the_field_spread()
    {
        int n = 20000;
        var pts = new double[n, 1];
        var vals = new double[n, 1];
        for (int i = 0; i < n; i++) { pts[i, 0] = i; vals[i, 0] = 3 * Math.Sin(i); }
        var all = new ReferenceSolution(["x"], pts, ["u"], vals);
        var (xs, vs, account) = Observations.Draw(all, ["u"], 5000, 0.1, 7, "f.npz");
        xs.GetLength(0).Should().Be(5000);
        Enumerable.Range(0, 5000).Select(i => xs[i, 0]).Distinct().Should().HaveCount(5000, "drawn without repetition");
        account.Should().Contain("5000 of 20000").And.Contain("noise");
        var (xs2, vs2, _) = Observations.Draw(all, ["u"], 5000, 0.1, 7, "f.npz");
        xs2.Cast<double>().Should().Equal(xs.Cast<double>(), "the same seed draws the same points");
        vs2.Cast<double>().Should().Equal(vs.Cast<double>(), "and the same noise");
        // Noise sd = 0.1 × std(u) = 0.1 × 3/√2: the sample sd of 5000 draws is within 5% of it (4.5 standard errors).
        var noise = Enumerable.Range(0, 5000).Select(i => vs[i, 0] - 3 * Math.Sin(xs[i, 0])).ToArray();
        MathNet.Numerics.Statistics.Statistics.StandardDeviation(noise).Should().BeApproximately(0.3 / Math.Sqrt(2), 0.05 * 0.3 / Math.Sqrt(2));
        var exact = Observations.Draw(all, ["u"], null, 0, 1, "f.npz");
        exact.Values.Cast<double>().Should().Equal(vals.Cast<double>(), "no subsample, no noise: the data as given");
        var act = () => Observations.Draw(all, ["u"], n + 1, 0, 1, "f.npz");
        act.Should().Throw<PinnException>().WithMessage("*20001 observation points asked for, the data has 20000*");
    }

    string Write(string yaml)
    {
        var path = Path.Combine(_dir, "p.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    const string Well = """
        problem:
          name: well
          coordinates: {x: [0, 1]}
          fields: [psi]
          parameters: {E: {value: 8, trainable: true}}
          equations: ["-psi_xx = E*psi"]
          conditions:
            - {type: dirichlet, on: boundary, equation: "psi = 0"}
            - {type: integral, name: norm, equation: "integral(psi^2, x) = 1", nodes: 40}
          exact: {psi: "sqrt(2)*sin(pi*x)"}
        """;

    [Fact]
    public void YAML_integral_and_data_conditions_build_their_conditions()
    {
        var cfg = RunConfigLoader.Load(Write(Well), ProblemCatalog.Instance);
        var norm = cfg.Problem.Conditions.OfType<IntegralCondition>().Should().ContainSingle().Which;
        norm.Name.Should().Be("norm");
        norm.Nodes.Should().Be(40);
        var data = Well.Replace("nodes: 40}", "nodes: 40}\n    - {type: data, points: 30, seed: 3}");
        var obs = RunConfigLoader.Load(Write(data), ProblemCatalog.Instance).Problem.Conditions.OfType<ObservationCondition>().Should().ContainSingle().Which;
        obs.Points.GetLength(0).Should().Be(30);
        for (int i = 0; i < 30; i++) obs.Values[i, 0].Should().BeApproximately(Math.Sqrt(2) * Math.Sin(Math.PI * obs.Points[i, 0]), 1e-12, "drawn from the exact solution");
    }

    [Theory]
    [InlineData("equation: \"integral(psi^2, x) = 1\", nodes: 40}", "equation: \"integral(psi^2, y) = 1\"}", "'y' is not a coordinate", 9)]
    [InlineData("nodes: 40}", "nodes: 1}", "1 quadrature nodes per axis", 9)]
    [InlineData("nodes: 40}", "nodes: 40}\n    - {type: data, file: missing.npz}", "data file not found: missing.npz", 10)]
    [InlineData("nodes: 40}", "nodes: 40}\n    - {type: data, noise: 0.1}", "give 'points:'", 10)]
    [InlineData("nodes: 40}", "nodes: 40}\n    - {type: data, fields: [phi], points: 5}", "'phi' is not a field", 10)]
    public void Bad_integral_and_data_conditions_name_the_file_and_line(string find, string replace, string message, int line)
    {
        var act = () => RunConfigLoader.Load(Write(Well.Replace(find, replace)), ProblemCatalog.Instance);
        var e = act.Should().Throw<PinnException>().Which;
        e.Message.Should().Contain(message);
        e.File.Should().EndWith("p.yaml");
        e.Line.Should().Be(line);
    }
}
