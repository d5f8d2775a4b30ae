using Pinn.Config;
using Pinn.Problems;
using Pinn.Training;
using Pinn.Gp;
using Pinn.Models;

namespace Pinn.Tests.Gp;

/// <summary>The GP solver end to end through the ordinary config → Runner path, and its bad configs.</summary>
[Collection("training")]
public class GpRunTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact, Trait("Category", "Pinned")]
    public void Poisson1D_sin20x_is_solved_to_relative_L2_below_1e_4()
    {
        // problems/gp/poisson1d_sin20.yaml: 200 nodes, 2000 Adam steps (lr halving every 1000) with a
        // Gauss–Newton solve for U every 25. Measured 4.2e-5 with 1 and with 2 threads (~10 s); the
        // issue's bar is 1e-4. The run ends on a solve step.
        var cfg = RunConfigLoader.Load(TestPaths.Problem("gp/poisson1d_sin20.yaml"), ProblemCatalog.Instance,
                                       [$"output.dir={_dir}", "training.log_every=1000", "training.eval_every=0", ..Pinned.Overrides]);
        var r = Runner.Run(cfg).Result;
        r.Status.Should().Be("completed");
        // float64, spread over native AMD EPYC / MKL Intel AVX-512 / AVX2-only arithmetic × 1, 2 threads and seeds 0–4 (tests/spread/pinned.sh, 2026-12-01): 4.23e-5 … 4.33e-5 (the GP draws nothing random: machines only); bound 2.3× the worst.
        Pinned.Below("gp_poisson1d_sin20", r.Error!.RelativeL2, 1e-4);
    }

    PinnException Fails(string yaml)
    {
        var path = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(path, yaml);
        var act = () => RunConfigLoader.Load(path, ProblemCatalog.Instance);
        return act.Should().Throw<PinnException>().Which;
    }

    const string Gp = """
        problem: poisson1d_sin100
        model:
          type: gp
          grid: {x: 400}
          max_frequency: 20
        """;

    [Fact]
    public void A_sampler_other_than_the_grid_is_refused_with_its_line()
    {
        var e = Fails(Gp + "\ntraining:\n  sampler: sobol\n");
        e.Message.Should().Contain("bad.yaml:7").And.Contain("sampler 'sobol'").And.Contain("grid");
    }

    [Fact]
    public void Batch_sizes_are_refused_with_their_line()
    {
        var e = Fails(Gp + "\ntraining:\n  batch: {pde: 1000}\n");
        e.Message.Should().Contain("bad.yaml:7").And.Contain("training.batch");
    }

    [Fact]
    public void A_frequency_the_grid_cannot_represent_is_refused_with_its_line()
    {
        var e = Fails(Gp.Replace("max_frequency: 20", "max_frequency: 40"));
        e.Message.Should().Contain("bad.yaml:5").And.Contain("Nyquist").And.Contain("model.grid.x ≥ 504");
    }

    [Fact]
    public void A_missing_grid_is_refused()
    {
        var e = Fails(Gp.Replace("  grid: {x: 400}\n", ""));
        e.Message.Should().Contain("model.grid");
    }

    [Fact]
    public void Float32_is_refused_with_its_line()
    {
        var e = Fails(Gp + "\ntraining:\n  dtype: float32\n");
        e.Message.Should().Contain("bad.yaml:7").And.Contain("float64");
    }

    [Fact]
    public void Causal_weighting_is_refused()
    {
        var path = Path.Combine(_dir, "causal.yaml");
        File.WriteAllText(path, Gp + "\ntraining:\n  causal: {enabled: true}\n");
        var cfg = RunConfigLoader.Load(path, ProblemCatalog.Instance, [$"output.dir={_dir}"]);
        var act = () => Runner.Run(cfg);
        act.Should().Throw<PinnException>().WithMessage("*causal*GP*");
    }

    RunConfig Load(string text)
    {
        var path = Path.Combine(_dir, $"vfs-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return RunConfigLoader.Load(path, ProblemCatalog.Instance, [$"output.dir={_dir}"]);
    }

    [Fact]
    public void With_values_from_solve_the_grid_values_are_left_to_the_solve()
    {
        Load(Gp).Model.Gp.ValuesFromSolve.Should().BeFalse("no solve: Adam trains the values");
        Load(Gp + "\n  solve_every: 25\n").Model.Gp.ValuesFromSolve.Should().BeFalse("Adam trains the values too unless the config asks");
        Load(Gp + "\n  solve_every: 25\n  values_from_solve: true\n").Model.Gp.ValuesFromSolve.Should().BeTrue();
        var e = Fails(Gp + "\n  values_from_solve: true\n");
        e.Message.Should().Contain("bad.yaml:6").And.Contain("values_from_solve needs model.solve_every");

        var cfg = Load(Gp.Replace("grid: {x: 400}", "grid: {x: 40}").Replace("max_frequency: 20", "max_frequency: 3") + "\n  components: 4\n  solve_every: 5\n  values_from_solve: true\n");
        using var gp = new GridGpField(cfg.Model.Gp, cfg.Problem, TorchSharp.torch.ScalarType.Float64, TorchSharp.torch.CPU);
        var groups = ((IFieldModel)gp).ParameterGroups;
        groups.Should().HaveCount(2);
        groups.Single(g => g.LrScale == 0).Parameters.Should().Equal(gp.Values(0));
        groups.Sum(g => g.Parameters.Count).Should().Be(gp.TrainableParameters.Count, "every trained tensor is in one group");
    }

    [Fact]
    public void The_solve_precision_scale_is_read_and_checked()
    {
        Load(Gp).Model.Gp.SolvePrecisionScale.Should().Be(1, "the default solve is the objective's own minimiser");
        Load(Gp + "\n  solve_every: 25\n  solve_precision_scale: 1e3\n").Model.Gp.SolvePrecisionScale.Should().Be(1000);
        var e = Fails(Gp + "\n  solve_every: 25\n  solve_precision_scale: 0.5\n");
        e.Message.Should().Contain("bad.yaml:7").And.Contain("model.solve_precision_scale must be a finite number ≥ 1").And.Contain("0.5");
    }
}
