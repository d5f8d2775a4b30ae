using Pinn.Config;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Training;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Tests.Training;

[Collection("training")]
public class ResumeAndRecoveryTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    RunConfig Config(string name, params string[] more) => RunConfigLoader.Load("heat1d", ProblemCatalog.Instance,
        new[] { $"output.dir={_dir}", $"output.name={name}", "training.threads=1", "training.steps=120",
                "training.lbfgs_steps=15", "training.log_every=10", "training.eval_every=40", "training.checkpoint_every=50",
                "training.resample_every=7", "model.layers=[16, 16]", "training.batch.pde=256" }.Concat(more));

    /// <summary>Stops the run (as Ctrl-C does) once a given step has been taken.</summary>
    sealed class StopAt(CancellationTokenSource cts, int step) : ITrainingObserver
    {
        public void OnLog(LogEntry entry) { }
        public void OnStep(int s, int total, double loss) { if (s == step) cts.Cancel(); }
    }

    [Theory]
    [InlineData(63)]   // inside Adam, between checkpoints and between redraws of the batch
    [InlineData(125)]  // inside L-BFGS: resumes from the end of Adam and redoes the polish
    public void Interrupted_and_resumed_run_ends_exactly_like_an_uninterrupted_one(int stopAfter)
    {
        var straight = Runner.Run(Config("straight")).Result;
        straight.Status.Should().Be("completed");

        using var cts = new CancellationTokenSource();
        var first = Runner.Run(Config("interrupted"), new StopAt(cts, stopAfter), cts.Token);
        first.Result.Status.Should().Be("interrupted");
        File.Exists(Path.Combine(first.Directory, "metrics.json")).Should().BeTrue("partial results are written");

        var resumed = Runner.Resume(first.Directory, ProblemCatalog.Instance).Result;
        resumed.Status.Should().Be("completed");
        resumed.AdamSteps.Should().Be(straight.AdamSteps);
        resumed.LbfgsSteps.Should().Be(straight.LbfgsSteps);
        // Same batches, same optimiser moments, same schedule: equal to the last bit, not just close.
        resumed.FinalLoss.Should().Be(straight.FinalLoss);
        resumed.Error!.RelativeL2.Should().Be(straight.Error!.RelativeL2);

        var log = File.ReadAllLines(Path.Combine(first.Directory, "log.csv")).Skip(1).Select(l => l.Split(',')[0] + l.Split(',')[1]).ToList();
        log.Should().OnlyHaveUniqueItems("rows past the checkpoint are dropped before they are run again");
    }

    /// <summary>An MLP whose output is NaN on chosen forward calls: a stand-in for a blow-up.</summary>
    sealed class FlakyModel(IFieldModel inner, Func<int, bool> nanOnCall) : IFieldModel
    {
        int _calls;
        public int InputDim => inner.InputDim;
        public int OutputDim => inner.OutputDim;
        public Tensor Forward(Tensor points) => nanOnCall(_calls++) ? inner.Forward(points) * double.NaN : inner.Forward(points);
        public IReadOnlyList<TorchParameter> TrainableParameters => inner.TrainableParameters;
        public string Describe() => inner.Describe();
        public void Dispose() => inner.Dispose();
    }

    TrainingResult TrainFlaky(Func<int, bool> nanOnCall)
    {
        var cfg = Config("flaky", "training.lbfgs_steps=0", "training.snapshot_every=10", "training.max_recoveries=3");
        using var model = new FlakyModel(ModelFactory.Create(cfg.Model, cfg.Problem, ScalarType.Float32, CPU), nanOnCall);
        using var trainer = new Trainer(cfg.Problem, model, cfg.Training, ScalarType.Float32, CPU,
                                        new Pinn.Reporting.ReferenceComparison(cfg.Problem.Reference!.Solve(cfg.Problem, [33, 11])));
        return trainer.Train();
    }

    [Fact]
    public void A_few_non_finite_steps_are_recovered_from()
    {
        // Heat has 3 point sets (interior, initial, boundary): 3 forward calls per step. NaNs at steps ~30 and ~31.
        var r = TrainFlaky(call => call is 90 or 94);
        r.Status.Should().Be("completed");
        r.Recoveries.Should().Be(2);
        r.AdamSteps.Should().Be(120);
        double.IsFinite(r.FinalLoss).Should().BeTrue();
        r.Error!.RelativeL2.Should().BeLessThan(1);
    }

    [Fact]
    public void A_hopeless_run_stops_cleanly_after_the_allowed_recoveries()
    {
        var r = TrainFlaky(call => call >= 90);
        r.Status.Should().StartWith("diverged").And.Contain("after 3 recoveries");
        r.Recoveries.Should().Be(3);
        r.Error.Should().NotBeNull("the error of the last good state is still reported");
    }
}
