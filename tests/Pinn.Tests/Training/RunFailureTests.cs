using System.Text.Json;
using Pinn.Config;
using Pinn.Problems;
using Pinn.Training;

namespace Pinn.Tests.Training;

/// <summary>A run that fails once its folder exists still says so in metrics.json: no folder is left without a status.</summary>
public class RunFailureTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Fails at the first step, after the run directory has been created and run.yaml written.</summary>
    sealed class FailAtFirstStep : ITrainingObserver
    {
        public void OnLog(LogEntry entry) { }
        public void OnStep(int step, int total, double loss) => throw new PinnException("the observer gave up");
    }

    [Fact]
    public void A_run_that_fails_after_its_folder_exists_writes_status_failed_and_the_error()
    {
        var cfg = RunConfigLoader.Load("poisson1d", ProblemCatalog.Instance,
                                       [$"output.dir={_dir}", "output.name=doomed", "training.steps=3", "training.threads=1", "model.layers=[8]"]);
        var act = () => Runner.Run(cfg, new FailAtFirstStep());
        act.Should().Throw<PinnException>().WithMessage("the observer gave up");

        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "poisson1d", "doomed", "metrics.json"))).RootElement;
        metrics.GetProperty("status").GetString().Should().Be("failed");
        metrics.GetProperty("error").GetString().Should().Be("the observer gave up");
    }
}
