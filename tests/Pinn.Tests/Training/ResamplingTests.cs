using System.Text.Json;
using Pinn.Config;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Training;
using Pinn.Training.Optimizers;
using Pinn.Training.Phases;
using static Pinn.Symbolic.Sym;
using static TorchSharp.torch;

namespace Pinn.Tests.Training;

/// <summary>Residual-based resampling (RAD) cycles of the dense quasi-Newton phases: config, the draw, H across a redraw.</summary>
public class ResampleConfigTests
{
    static RunConfig Read(string phases) =>
        RunConfigLoader.Read(YamlDoc.Parse($"problem: poisson1d\ntraining:\n  dtype: float64\n  phases: {phases}\n", "cfg.yaml"), ProblemCatalog.Instance);

    [Fact]
    public void Resample_options_parse_fill_their_defaults_and_read_back_equal()
    {
        var first = Read("[{adam: {steps: 10}}, {ssbroyden: {steps: 50, resample: {every: 100, k: 2}}}, bfgs]");
        var ss = (QuasiNewtonPhaseOptions)first.Training.Plan[1];
        ss.Resample.Should().Be(new ResampleOptions { Every = 100, Pool = 100_000, K = 2, C = 1 });
        ((QuasiNewtonPhaseOptions)first.Training.Plan[2]).Resample.Should().BeNull("absent means one fixed batch, as before");
        var written = first.Document.Text();
        written.Should().Contain("pool: 100000");
        System.Text.RegularExpressions.Regex.Matches(written, @"\bresample:").Should().HaveCount(1, "nothing is written for the phase without resampling");
        var again = RunConfigLoader.Read(YamlDoc.Parse(written, "run.yaml"), ProblemCatalog.Instance);
        JsonSerializer.Serialize(again.Training).Should().Be(JsonSerializer.Serialize(first.Training));
        again.Document.Text().Should().Be(written);
    }

    [Theory]
    [InlineData("[{ssbroyden: {resample: {every: 0}}}]", "cfg.yaml:4: training.phases[0].ssbroyden.resample.every must be at least 1*")]
    [InlineData("[{bfgs: {resample: {k: -1}}}]", "cfg.yaml:4: training.phases[0].bfgs.resample.k must be a finite number ≥ 0*")]
    [InlineData("[{ssbfgs: {resample: {evry: 5}}}]", "cfg.yaml:4: unknown key 'training.phases[0].ssbfgs.resample.evry' (did you mean 'training.phases[0].ssbfgs.resample.every'?)*")]
    [InlineData("[{adam: {resample: {every: 5}}}]", "cfg.yaml:4: 'training.phases[0].adam.resample' does not apply to optimiser 'adam'*")]
    [InlineData("[{ssbroyden: {resample: 5}}]", "cfg.yaml:4: training.phases[0].ssbroyden.resample: expected a mapping*")]
    public void Bad_resample_options_are_named_with_file_and_line(string phases, string message)
    {
        var act = () => Read(phases);
        act.Should().Throw<PinnException>().WithMessage(message);
    }

    [Fact]
    public void The_density_is_the_RAD_formula()
    {
        var p = ResidualResampler.Density([0, 1, 3, double.NaN], k: 2, c: 0.5);
        // ε² = 0, 1, 9, 9 (NaN → the largest finite ε); mean 4.75.
        p.Should().Equal(0.5, 1 / 4.75 + 0.5, 9 / 4.75 + 0.5, 9 / 4.75 + 0.5);
        ResidualResampler.Density([0, 0], k: 1, c: 0).Should().Equal(1, 1); // a zero residual everywhere: uniform
        ResidualResampler.Density([2, 5], k: 0, c: 0).Should().Equal(1, 1);
    }

    [Fact]
    public void Selection_is_without_replacement_and_follows_the_weights()
    {
        var w = Enumerable.Range(0, 1000).Select(i => i < 100 ? 9.0 : 1.0).ToArray(); // 10 % of the candidates, half the mass
        var chosen = ResidualResampler.Select(w, 100, new Random(5));
        chosen.Should().OnlyHaveUniqueItems().And.BeInAscendingOrder();
        // Successive draws without replacement, 100 of 1000: ~50 from the heavy tenth (sd ≈ 5; depletion lowers it slightly).
        chosen.Count(i => i < 100).Should().BeInRange(35, 60);
        ResidualResampler.Select(w, 100, new Random(5)).Should().Equal(chosen, "the same seed draws the same points");
    }
}

[Collection("training")]
public class ResampleTrainingTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>u = e^{50(x−1)} on [0, 1]: against u ≡ 0 the residual is e^{50(x−1)}, all but e^{−10} of its mass in x &gt; 0.8.</summary>
    sealed class SpikeProblem : Problem
    {
        public override string Name => "spike";
        public SpikeProblem()
        {
            var x = Space("x", 0, 1);
            var u = Field("u");
            Equation(u == Exp(50 * (x - 1)));
        }
    }

    /// <summary>The batch a RAD redraw gives on the spike problem with a network whose parameters are all 0 (u ≡ 0).</summary>
    static double[] Redrawn(double k, double c, int seed)
    {
        var problem = new SpikeProblem();
        var options = new TrainingOptions { DType = "float64", Seed = seed, Batch = new Dictionary<string, int> { ["pde"] = 500 } };
        using var model = ModelFactory.Create(new ModelOptions { Layers = [8] }, problem, ScalarType.Float64, CPU, generator: new TorchSharp.torch.Generator(1));
        using (no_grad())
            foreach (var p in model.TrainableParameters) p.zero_();
        using var trainer = new Trainer(problem, model, options, ScalarType.Float64, CPU);
        IPhaseHost host = trainer;
        host.DrawBatch();
        var rs = new ResampleOptions { Pool = 20_000, K = k, C = c };
        ResidualResampler.Redraw(host, rs, tag: 1, cycle: 1);
        host.PointSets.Should().ContainSingle();
        return host.PointSets[0].Points.detach().cpu().data<double>().ToArray();
    }

    [Fact]
    public void A_redraw_puts_the_points_where_the_residual_is()
    {
        // RAD: p(x) ∝ |r|/mean|r| + c with |r| = e^{50(x−1)}, mean|r| = (1 − e^{−50})/50. The share of x > 0.8 is
        // [(1 − e^{−10}) + 0.2c] / (1 + c): 0.600 at c = 1, 1 − 4.5e-5 at c = 0, against its area 0.2. 500 points of a
        // 20k pool: the binomial sd is ≤ 0.022, and depletion without replacement is < 1 % here; bounds at ~3 sd.
        double Share(double[] x) => x.Count(v => v > 0.8) / (double)x.Length;
        double expected = ((1 - Math.Exp(-10)) + 0.2) / 2;
        Share(Redrawn(1, 1, seed: 0)).Should().BeInRange(expected - 0.07, expected + 0.07);
        Share(Redrawn(1, 0, seed: 1)).Should().BeGreaterThan(0.99);
        Share(Redrawn(1, 1, seed: 2)).Should().BeGreaterThan(2.5 * 0.2, "far above the area fraction");
    }

    [Fact]
    public void With_k_0_the_redraw_is_uniform()
    {
        foreach (var seed in new[] { 0, 1 })
        {
            var x = Redrawn(0, 1, seed);
            x.Should().OnlyHaveUniqueItems();
            x.Count(v => v > 0.8).Should().BeInRange(70, 130, "area 0.2 of 500 points: 100 ± 27 at 3 sd");
            x.Average().Should().BeApproximately(0.5, 0.04, "the mean of 500 uniform points has sd 0.013");
        }
    }

    RunConfig Config(string name, params string[] more) => RunConfigLoader.Load("heat1d", ProblemCatalog.Instance,
        new[] { $"output.dir={_dir}", $"output.name={name}", "training.threads=1", "training.dtype=float64", "training.log_every=10",
                "training.eval_every=0", "training.checkpoint_every=0", "model.layers=[16, 16]",
                "training.batch={pde: 256, ic: 64, bc: 64}", "evaluation.grid={x: 33, t: 11}" }.Concat(more));

    [Fact]
    public void H_is_kept_across_a_redraw_and_the_phase_goes_on()
    {
        var cfg = Config("keep", "training.steps=40");
        using var model = ModelFactory.Create(cfg.Model, cfg.Problem, ScalarType.Float64, CPU, generator: new TorchSharp.torch.Generator(0));
        using var trainer = new Trainer(cfg.Problem, model, cfg.Training, ScalarType.Float64, CPU);
        trainer.Train(); // Adam warm-up
        IPhaseHost host = trainer;
        var spec = new QuasiNewtonPhaseOptions { Steps = 100, Resample = new ResampleOptions { Every = 1000, Pool = 4000 } };
        using var phase = (QuasiNewtonPhase)TrainingPhases.Create(spec, host);
        phase.Begin(null);
        for (int i = 0; i < 8; i++) phase.Step(i, false);
        var qn = phase.Optimizer!;
        qn.Updates.Should().BeGreaterThan(0);
        using var h = qn.InverseHessian.clone();
        using var symmetric = (h + h.t()).mul_(0.5);
        using var before = host.PointSets[0].Points.detach().clone();
        double f = qn.Value;

        phase.Resample().Should().Be(CurvatureCheck.Kept);
        phase.Cycles.Should().Be(1);
        qn.InverseHessian.eq(symmetric).all().item<bool>().Should().BeTrue("H is only symmetrised across a redraw");
        qn.HasLineSearchMemory.Should().BeFalse();
        host.PointSets[0].Points.eq(before).all().item<bool>().Should().BeFalse("the batch is new");
        qn.Value.Should().NotBe(f, "f is re-evaluated on the new batch");
        int iterations = qn.Iterations;
        for (int i = 8; i < 14; i++) phase.Step(i, false).Stop.Should().BeNull();
        qn.Iterations.Should().BeGreaterThan(iterations);
        qn.Resets.Should().Be(0);
    }

    [Fact]
    public void A_resampling_phase_runs_cycles_for_a_PIG_model()
    {
        var cfg = RunConfigLoader.Read(YamlDoc.Parse("""
            problem: heat1d
            model: {type: pig, gaussians: {count: 40}}
            training:
              dtype: float64
              threads: 1
              eval_every: 0
              checkpoint_every: 0
              batch: {pde: 256, ic: 64, bc: 64}
              phases: [{adam: {steps: 20}}, {ssbroyden: {steps: 12, resample: {every: 4, pool: 2000}}}]
            evaluation: {grid: {x: 33, t: 11}}
            output: {dir: "DIR", name: pig}
            """.Replace("DIR", _dir), "pig.yaml"), ProblemCatalog.Instance);
        var r = Runner.Run(cfg).Result;
        r.Status.Should().Be("completed");
        r.Phases![1].Steps.Should().BeGreaterThan(4);
        double.IsFinite(r.FinalLoss).Should().BeTrue();
    }
}
