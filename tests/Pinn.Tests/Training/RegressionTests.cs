using Pinn.Config;
using Pinn.Problems;
using Pinn.Training;

namespace Pinn.Tests.Training;

/// <summary>
/// Short training runs that pin today's accuracy, so a regression in the trainer, the derivatives or
/// the samplers shows up as a failed bound. Budgets are small (seconds on one thread); the bounds
/// leave ~2–3× headroom over the measured values noted next to them.
/// </summary>
[Collection("training")] // one training run at a time: they share libtorch's process-wide thread pool
public class RegressionTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    RunOutcome Train(string target, params string[] overrides)
    {
        var all = new[] { $"output.dir={_dir}", "training.threads=1", "training.log_every=1000" }.Concat(overrides);
        var cfg = RunConfigLoader.Load(target, ProblemCatalog.Instance, all);
        return Runner.Run(cfg);
    }

    [Fact]
    public void Poisson1D_reaches_relative_L2_below_1e_3()
    {
        var r = Train(TestPaths.Problem("poisson1d/poisson1d.yaml"), "training.lbfgs_steps=200").Result;
        r.Status.Should().Be("completed");
        r.Error!.RelativeL2.Should().BeLessThan(1e-3);
    }

    [Fact]
    public void Heat1D_short_run_pins_its_error()
    {
        var r = Train("heat1d", "training.steps=1500", "model.layers=[32, 32, 32]", "training.batch.pde=512",
                      "training.batch.ic=128", "training.batch.bc=128", "training.lbfgs_steps=200").Result;
        r.Status.Should().Be("completed");
        r.Error!.RelativeL2.Should().BeLessThan(2e-2);
    }

    [Fact]
    public void Burgers_short_run_pins_its_error()
    {
        var r = Train("burgers", "training.steps=1500", "model.layers=[32, 32, 32]", "training.batch.pde=1024",
                      "training.batch.ic=128", "training.batch.bc=128", "training.lbfgs_steps=0",
                      "evaluation.grid={x: 128, t: 50}").Result;
        r.Status.Should().Be("completed");
        r.Error!.RelativeL2.Should().BeLessThan(0.35);
    }

    [Fact]
    public void Same_seed_gives_the_same_run()
    {
        var a = Train("poisson1d", "training.steps=30", "output.name=a").Result;
        var b = Train("poisson1d", "training.steps=30", "output.name=b").Result;
        b.FinalLoss.Should().Be(a.FinalLoss);
        b.Error!.RelativeL2.Should().Be(a.Error!.RelativeL2);
    }
}
