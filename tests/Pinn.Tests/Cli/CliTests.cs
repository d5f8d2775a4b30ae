using Pinn.Cli;
using Pinn.Training;

namespace Pinn.Tests.Cli;

/// <summary>The CLI's contract: exit codes, one-line errors on stderr, the files a run writes.</summary>
public class CliTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int code, string stdout, string stderr) Pinn(params string[] args) => TestInputs.Pinn(args);

    [Fact]
    public void List_names_every_builtin_problem()
    {
        var (code, stdout, _) = Pinn("list");
        code.Should().Be(0);
        stdout.Should().Contain("poisson1d").And.Contain("poisson2d").And.Contain("heat1d").And.Contain("burgers");
    }

    [Fact]
    public void Show_prints_the_equations()
    {
        var (code, stdout, _) = Pinn("show", "burgers");
        code.Should().Be(0);
        stdout.Should().Contain("u_t + u*u_x = nu*u_xx").And.Contain("u = -sin(pi*x)").And.Contain("x ∈ [-1, 1]");
    }

    [Fact]
    public void Unknown_problem_is_a_one_line_error_with_exit_code_2()
    {
        var (code, _, stderr) = Pinn("run", "poison1d");
        code.Should().Be(PinnCommand.BadInput);
        stderr.Trim().Split('\n').Should().ContainSingle();
        stderr.Should().Contain("did you mean 'poisson1d'");
    }

    [Fact]
    public void Bad_equation_in_a_config_exits_2_naming_file_line_and_symbol()
    {
        var path = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(path, "problem:\n  coordinates: {x: [0, 1]}\n  fields: [u]\n  equations: [\"u_xx + sni(x)\"]\n");
        var (code, _, stderr) = Pinn("show", path);
        code.Should().Be(PinnCommand.BadInput);
        stderr.Trim().Should().Be($"error: {path}:4: unknown function 'sni' in equation 1 at column 8 (did you mean 'sin'?)");
    }

    [SkippableFact]
    public void Cuda_request_fails_clearly_when_cuda_is_unavailable()
    {
        Skip.If(TorchSharp.torch.cuda.is_available(), "CUDA is available here: this check is about machines without it");
        var (code, _, stderr) = Pinn("run", "poisson1d", "--device", "cuda", "--steps", "1", "--out", _dir);
        code.Should().Be(PinnCommand.BadInput);
        stderr.Trim().Should().Be("error: " + RunDevice.CudaUnavailableMessage, "one line that says why and what to do");
        if (RunDevice.BuildBackend == "cpu") stderr.Should().Contain("-p:TorchBackend=cuda");
        Directory.Exists(Path.Combine(_dir, "poisson1d")).Should().BeFalse("the device is checked before a run folder is made");
    }

    [Fact]
    public void Run_writes_config_log_metrics_and_prints_a_summary()
    {
        var (code, stdout, stderr) = Pinn("run", "poisson1d", "--steps", "50", "--out", _dir, "--name", "smoke",
                                          "--set", "training.threads=1", "--set", "training.log_every=10");
        code.Should().Be(0, stderr);
        var run = Path.Combine(_dir, "poisson1d", "smoke");
        File.Exists(Path.Combine(run, "run.yaml")).Should().BeTrue();
        File.ReadAllText(Path.Combine(run, "run.yaml")).Should().Contain("steps: 50");
        File.ReadAllLines(Path.Combine(run, "log.csv")).Should().HaveCountGreaterThan(5).And.Subject.First().Should().StartWith("phase,step,seconds,lr,loss");
        var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json"))).RootElement;
        metrics.GetProperty("status").GetString().Should().Be("completed");
        metrics.GetProperty("adam_steps").GetInt32().Should().Be(50);
        metrics.GetProperty("fields").GetProperty("u").GetProperty("relative_l2").GetDouble().Should().BeGreaterThan(0);
        File.Exists(Path.Combine(run, "prediction.npz")).Should().BeTrue();
        stdout.Should().Contain("poisson1d: relative L2").And.Contain("50 Adam");
    }

    [Fact]
    public void Diverging_run_exits_1_and_keeps_its_results()
    {
        var (code, _, stderr) = Pinn("run", "poisson1d", "--steps", "200", "--out", _dir, "--name", "boom",
                                     "--set", "training.lr=1e30", "--set", "training.threads=1");
        code.Should().Be(PinnCommand.Diverged);
        stderr.Should().Contain("diverged");
        var metrics = File.ReadAllText(Path.Combine(_dir, "poisson1d", "boom", "metrics.json"));
        metrics.Should().Contain("\"status\": \"diverged");
    }

    [Fact]
    public void Reference_command_writes_grid_and_values()
    {
        var csv = Path.Combine(_dir, "heat.csv");
        var (code, _, stderr) = Pinn("reference", "heat1d", "--nx", "11", "--nt", "5", "--out", csv);
        code.Should().Be(0, stderr);
        var lines = File.ReadAllLines(csv);
        lines[0].Should().Be("x,t,u");
        lines.Should().HaveCount(1 + 11 * 5);
        var table = global::Pinn.References.CsvTable.Read(csv);
        var x = table.Column("x"); var t = table.Column("t"); var u = table.Column("u");
        for (int i = 0; i < table.Rows; i++)
            u[i].Should().BeApproximately(Math.Exp(-0.1 * Math.PI * Math.PI * t[i]) * Math.Sin(Math.PI * x[i]), 1e-14);
    }

    [Fact]
    public void Dry_run_prints_problem_and_config_without_training()
    {
        var (code, stdout, stderr) = Pinn("run", "burgers", "--dry-run", "--steps", "123", "--out", _dir);
        code.Should().Be(0, stderr);
        stdout.Should().Contain("u_t + u*u_x = nu*u_xx").And.Contain("123 Adam steps");
        Directory.Exists(Path.Combine(_dir, "burgers")).Should().BeFalse("a dry run writes nothing");
    }

    [Fact]
    public void Report_tabulates_runs_and_eval_recomputes_the_error_from_the_checkpoint()
    {
        var (code, stdout, stderr) = Pinn("run", "poisson1d", "--steps", "40", "--out", _dir, "--name", "r1", "--quiet",
                                          "--set", "training.threads=1");
        code.Should().Be(0, stderr);
        stdout.Trim().Split('\n').Should().ContainSingle("--quiet prints only the summary");
        var summary = stdout.Trim();

        (code, stdout, stderr) = Pinn("report", _dir);
        code.Should().Be(0, stderr);
        stdout.Should().Contain("| poisson1d/r1 | poisson1d | completed | 40 + 0 |");
        File.ReadAllText(Path.Combine(_dir, "summary.md")).Should().Contain("poisson1d/r1");

        (code, stdout, stderr) = Pinn("eval", Path.Combine(_dir, "poisson1d", "r1"));
        code.Should().Be(0, stderr);
        var rel = summary[(summary.IndexOf("relative L2 ", StringComparison.Ordinal) + 12)..].Split(' ')[0];
        stdout.Should().Contain($"relative L2 {rel}", "the checkpoint reproduces the run's own error");
    }

    [Fact]
    public void Resume_of_a_missing_run_is_a_clear_error()
    {
        var (code, _, stderr) = Pinn("run", "--resume", Path.Combine(_dir, "nothing"));
        code.Should().Be(PinnCommand.BadInput);
        stderr.Should().Contain("is not a run directory");
    }
}
