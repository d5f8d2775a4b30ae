using Pinn.Config;
using Pinn.Problems;

namespace Pinn.Tests.Config;

/// <summary>Bad input gives one clear error naming the file and line (and the symbol), never a stack trace.</summary>
public class BadInputTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string yaml, string name = "bad.yaml")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    const string Heat = TestInputs.InlineHeat;

    PinnException Fails(string yaml, params string[] overrides)
    {
        var path = Write(yaml);
        var act = () => RunConfigLoader.Load(path, ProblemCatalog.Instance, overrides);
        return act.Should().Throw<PinnException>().Which;
    }

    [Fact]
    public void Valid_inline_problem_loads()
    {
        var cfg = RunConfigLoader.Load(Write(Heat), ProblemCatalog.Instance);
        cfg.Problem.Equations.Should().ContainSingle();
        cfg.Problem.Conditions.Should().HaveCount(2);
    }

    [Fact]
    public void Unknown_symbol_in_an_equation_names_file_line_equation_column_and_suggestion()
    {
        var e = Fails(Heat.Replace("u_t = alpha*u_xx", "u_t = alpha*uxx"));
        e.Message.Should().Be($"{Path.Combine(_dir, "bad.yaml")}:8: unknown symbol 'uxx' in equation 1 at column 13 (did you mean 'u_xx'?)");
        e.Line.Should().Be(8);
    }

    [Fact]
    public void Unknown_field_in_a_condition_is_reported_with_its_line()
    {
        var e = Fails(Heat.Replace("equation: \"u = 0\"", "equation: \"w = 0\""));
        e.Message.Should().Contain("bad.yaml:11").And.Contain("unknown symbol 'w'").And.Contain("condition 2");
    }

    [Fact]
    public void Malformed_yaml_names_the_line()
    {
        var e = Fails("problem: poisson1d\ntraining:\n  steps: 100\n    lr: 3\n");
        e.Message.Should().StartWith(Path.Combine(_dir, "bad.yaml") + ":4:").And.Contain("malformed YAML");
        Fails("problem: poisson1d\ntraining:\n  steps: [1, 2\n  lr: 3\n").Message.Should().Contain("bad.yaml").And.Contain("malformed YAML");
    }

    [Fact]
    public void Misspelt_key_is_rejected_with_a_suggestion()
    {
        var e = Fails("problem: poisson1d\ntraining:\n  stpes: 100\n");
        e.Message.Should().Contain("bad.yaml:3").And.Contain("unknown key 'training.stpes'").And.Contain("did you mean 'training.steps'");
    }

    [Fact]
    public void Wrong_value_type_names_key_and_line()
    {
        var e = Fails("problem: poisson1d\ntraining:\n  steps: many\n");
        e.Message.Should().Contain("bad.yaml:3").And.Contain("training.steps").And.Contain("'many'");
    }

    [Fact]
    public void Unknown_problem_name_suggests_the_closest()
    {
        var e = Fails("problem: burger\n");
        e.Message.Should().Contain("bad.yaml:1").And.Contain("unknown problem 'burger'").And.Contain("did you mean 'burgers'");
    }

    [Fact]
    public void Wrong_dimension_evaluation_grid_is_rejected()
    {
        var e = Fails("problem: heat1d\nevaluation:\n  grid: [10, 10, 10]\n");
        e.Message.Should().Contain("bad.yaml:3").And.Contain("3 counts for 2 coordinates");
    }

    [Fact]
    public void Derivative_by_a_coordinate_the_problem_lacks_is_rejected()
    {
        var e = Fails(Heat.Replace("u_t = alpha*u_xx", "u_t = alpha*d(u, y, y)"));
        e.Message.Should().Contain("bad.yaml:8").And.Contain("'y'");
    }

    [Fact]
    public void Missing_reference_file_is_reported()
    {
        var e = Fails(Heat + "\n  reference: {file: missing.npz}\n");
        e.Message.Should().Contain("bad.yaml:12").And.Contain("reference file not found: missing.npz");
    }

    [Fact]
    public void Unknown_parameter_override_is_rejected()
    {
        var e = Fails("problem:\n  name: burgers\n  parameters: {mu: 0.1}\n");
        e.Message.Should().Contain("bad.yaml:3").And.Contain("no parameter 'mu'").And.Contain("nu");
    }

    [Fact]
    public void Parameter_override_accepts_constant_expressions()
    {
        var cfg = RunConfigLoader.Load(Write("problem:\n  name: burgers\n  parameters: {nu: 0.02/pi}\n"), ProblemCatalog.Instance);
        cfg.Problem.ParameterValues["nu"].Should().BeApproximately(0.02 / Math.PI, 1e-16);
    }

    [Fact]
    public void Set_overrides_reach_nested_keys()
    {
        var cfg = RunConfigLoader.Load(Write("problem: poisson1d\n"), ProblemCatalog.Instance,
                                       ["training.steps=17", "model.layers=[8, 8]"]);
        cfg.Training.Steps.Should().Be(17);
        cfg.Model.Layers.Should().Equal(8, 8);
    }

    [Fact]
    public void Unknown_condition_type_lists_the_valid_ones()
    {
        var e = Fails(Heat.Replace("type: dirichlet", "type: robin"));
        e.Message.Should().Contain("bad.yaml:11").And.Contain("unknown type 'robin'").And.Contain("neumann");
    }

    [Fact]
    public void Missing_config_file_is_a_clear_error()
    {
        var act = () => RunConfigLoader.Load(Path.Combine(_dir, "nope.yaml"), ProblemCatalog.Instance);
        act.Should().Throw<PinnException>().WithMessage("config file not found: *nope.yaml");
    }
}
