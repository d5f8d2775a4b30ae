using System.Diagnostics;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace Pinn.Tests.Sweeps;

/// <summary>
/// <c>pinn sweep</c> end to end, as a user runs it: the CLI built beside the tests, in its own process, launching one
/// process per run. Tiny trainings (30 Adam steps of a 1→[8]→1 network): what is tested is the launching, the
/// idempotence and the report, not accuracy.
/// </summary>
public sealed class SweepRunTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A good base config, a broken one (an unknown key), and a sweep over them.</summary>
    string Setup(string sweepText)
    {
        File.WriteAllText(Path.Combine(_dir, "base.yaml"), $"""
            extends: {TestPaths.Problem("poisson1d/poisson1d.yaml")}
            model: {"{layers: [8]}"}
            training: {"{steps: 30, log_every: 10, eval_every: 0, threads: 1}"}
            evaluation: {"{grid: {x: 51}}"}
            """);
        File.WriteAllText(Path.Combine(_dir, "broken.yaml"), "extends: base.yaml\nmodel: {layerz: [8]}\n");
        var path = Path.Combine(_dir, "sweep.yaml");
        File.WriteAllText(path, sweepText.Replace("OUT", Path.Combine(_dir, "out")));
        return path;
    }

    internal static (int Code, string Output) Pinn(params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "Pinn.Cli.dll");
        File.Exists(cli).Should().BeTrue($"the CLI is built beside the tests ({cli})");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[cli, .. args]) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }

    [Fact]
    public void A_local_sweep_runs_each_run_reports_the_failed_one_and_a_rerun_skips_or_resumes()
    {
        var sweep = Setup("""
            name: demo
            configs: [base.yaml, broken.yaml]
            seeds: 2
            out: OUT
            """);
        var (code, text) = Pinn("sweep", sweep, "--jobs", "2", "--threads", "1");
        output.WriteLine(text);
        code.Should().Be(1, "two runs of the broken config fail");
        var dir = Path.Combine(_dir, "out", "demo");
        var report = File.ReadAllText(Path.Combine(dir, "report.md"));
        report.Should().Contain("| base | 2/2 |").And.Contain("| broken | 0/2 |");
        report.Should().Contain("| 002-broken-seed0 | failed | 2 |").And.Contain("broken.yaml:2: unknown key 'model.layerz'");
        File.ReadAllLines(Path.Combine(dir, "report.csv")).Should().HaveCount(5, "a header and one row per run");
        File.ReadAllLines(Path.Combine(dir, "groups.csv")).Should().HaveCount(3);
        File.Exists(Path.Combine(dir, "plot_config.png")).Should().BeTrue();
        File.ReadAllText(Path.Combine(dir, "logs", "0.log")).Should().Contain("poisson1d: relative L2");
        var run0 = Path.Combine(dir, "runs", "poisson1d", "000-base-seed0");
        var metrics = Path.Combine(run0, "metrics.json");
        var written = File.GetLastWriteTimeUtc(metrics);

        // again: the completed runs are skipped (not touched), the failed ones tried again
        (code, text) = Pinn("sweep", sweep, "--jobs", "2");
        output.WriteLine(text);
        code.Should().Be(1);
        text.Should().Contain("4 runs, 2 already completed; running 2");
        File.GetLastWriteTimeUtc(metrics).Should().Be(written);

        // a run that was interrupted (its metrics say so, its checkpoint is there) is resumed, not started again
        File.WriteAllText(metrics, File.ReadAllText(metrics).Replace("\"completed\"", "\"interrupted\""));
        (_, text) = Pinn("sweep", sweep, "--dry-run");
        text.Should().Contain("000-base-seed0: resumes from its checkpoint").And.Contain("001-base-seed1: completed (skipped)");
        (_, text) = Pinn("sweep", Path.Combine(dir, "sweep.json"), "--task", "0");
        output.WriteLine(text);
        text.Should().Contain($"resuming from {Path.Combine(run0, "checkpoint")}");
        File.ReadAllText(metrics).Should().Contain("\"completed\"");
    }

    [Fact]
    public void Print_script_writes_the_slurm_scripts_without_submitting()
    {
        var sweep = Setup("""
            name: onslurm
            config: base.yaml
            grid: {training.lr: [1e-3, 3e-3]}
            out: OUT
            slurm: {partition: debug, time: "00:05:00", cpus: 1}
            """);
        var (code, text) = Pinn("sweep", sweep, "--launcher", "slurm", "--print-script", "--mem", "1G");
        code.Should().Be(0, text);
        text.Should().Contain("#SBATCH --array=0-1").And.Contain("#SBATCH --mem=1G").And.Contain("#SBATCH --partition=debug")
            .And.Contain("--task \"$SLURM_ARRAY_TASK_ID\"").And.Contain(" report ");
        File.Exists(Path.Combine(_dir, "out", "onslurm", "slurm", "array.sh")).Should().BeTrue();
        Directory.Exists(Path.Combine(_dir, "out", "onslurm", "runs")).Should().BeFalse("nothing ran");
    }

    [Fact]
    public void Bad_sweep_input_is_one_line_with_exit_code_2()
    {
        var sweep = Setup("config: base.yaml\nzip: {training.lr: [1, 2], training.steps: [3]}\n");
        var (code, text) = Pinn("sweep", sweep);
        code.Should().Be(2);
        text.Trim().Should().StartWith($"error: {sweep}:2: zip: the lists must have equal lengths").And.NotContain("   at ");
        (code, text) = Pinn("sweep", sweep, "--launcher", "pbs");
        code.Should().Be(2);
        text.Should().Contain("unknown launcher 'pbs'");
    }
}

/// <summary>
/// <c>pinn sweep --launcher slurm</c> against a real one-node Slurm (scripts/slurm/: Debian's slurmctld, slurmd, munge,
/// started without systemd). Needs root and the Debian package index; where scripts/slurm/install.sh or start.sh say
/// they cannot (exit 77), the test is skipped with their reason. A cluster that was already up is left up.
/// </summary>
public sealed class SlurmSweepTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    static (int Code, string Output) Script(string name)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(TestPaths.Root, "scripts", "slurm", name));
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }

    const int CannotHere = 77;

    [SkippableFact, Trait("Category", "Slurm")]
    public void A_four_run_sweep_with_a_broken_config_goes_through_sbatch_and_its_report_job()
    {
        var clock = Stopwatch.StartNew();
        var (code, text) = Script("install.sh");
        Skip.If(code == CannotHere, $"Slurm cannot be installed here: {text.Trim()}");
        code.Should().Be(0, text);
        (code, text) = Script("start.sh");
        Skip.If(code == CannotHere, $"Slurm cannot be started here: {text.Trim()}");
        code.Should().Be(0, text);
        bool started = !text.Contains("already up");
        output.WriteLine($"Slurm installed and up after {clock.Elapsed.TotalSeconds:F1} s");
        try
        {
            File.WriteAllText(Path.Combine(_dir, "base.yaml"), $"""
                extends: {TestPaths.Problem("poisson1d/poisson1d.yaml")}
                model: {"{layers: [8]}"}
                training: {"{steps: 30, log_every: 10, eval_every: 0}"}
                evaluation: {"{grid: {x: 51}}"}
                """);
            File.WriteAllText(Path.Combine(_dir, "broken.yaml"), "extends: base.yaml\nmodel: {layerz: [8]}\n");
            var sweep = Path.Combine(_dir, "sweep.yaml");
            File.WriteAllText(sweep, $"""
                name: slurm-e2e
                config: base.yaml
                cases:
                  - {"{name: slow, set: {training.lr: 1e-3}}"}
                  - {"{name: fast, set: {training.lr: 3e-3}}"}
                  - {"{name: faster, set: {training.lr: 1e-2}}"}
                  - {"{name: broken, config: broken.yaml}"}
                out: {Path.Combine(_dir, "out")}
                slurm: {"{cpus: 1, time: '00:05:00'}"}
                """);
            clock.Restart();
            (code, text) = SweepRunTests.Pinn("sweep", sweep, "--launcher", "slurm", "--wait");
            output.WriteLine(text);
            output.WriteLine($"submitted and finished in {clock.Elapsed.TotalSeconds:F1} s");
            code.Should().Be(1, "one run fails");
            text.Should().MatchRegex(@"submitted array job \d+ \(4 tasks: 0-3\) and report job \d+");
            var dir = Path.Combine(_dir, "out", "slurm-e2e");
            // the report job (afterany) wrote the report, after every task
            File.ReadAllText(Path.Combine(dir, "logs", "report.log")).Should().Contain("wrote");
            var report = File.ReadAllText(Path.Combine(dir, "report.md"));
            report.Should().Contain("4 runs, 3 completed, 1 not");
            foreach (var c in new[] { "slow", "fast", "faster" }) report.Should().MatchRegex($@"\| {c} \| 1/1 \| \d\.\d\de[+-]\d\d \|");
            report.Should().Contain("| 003-broken | failed | 2 |").And.Contain("unknown key 'model.layerz'");
            for (int i = 0; i < 3; i++) File.ReadAllText(Path.Combine(dir, "tasks", $"{i}.json")).Should().Contain("\"exit_code\": 0");
        }
        finally
        {
            if (started) Script("stop.sh");
        }
    }
}
