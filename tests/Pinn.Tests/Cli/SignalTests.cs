using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Pinn.Training;

namespace Pinn.Tests.Cli;

/// <summary>
/// The built CLI as a child process, stopped the ways a real run is stopped: SIGTERM (a batch scheduler's time
/// limit), SIGINT (Ctrl-C), and kill -9 while a checkpoint is being written (the writer frozen at each stage by
/// the test-only PINN_TEST_CHECKPOINT_PAUSE hook of <see cref="Checkpoint.Save"/>).
/// </summary>
[Collection("training")] // each test trains in a child process: one at a time, like the in-process training tests
public class SignalTests : IDisposable
{
    const int SIGINT = 2, SIGKILL = 9, SIGTERM = 15;
    const int CheckpointEvery = 20;
    // Generous: a child loads libtorch and trains a 97-parameter net at ~2 ms/step when idle, but these machines
    // are shared (2 cores, several test runs); every wait is on a condition and ends as soon as it holds.
    static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    readonly string _dir = TestPaths.TempDir();
    readonly List<Child> _children = [];

    public void Dispose()
    {
        foreach (var c in _children) c.Dispose(); // kills any child a failed test left running
        Directory.Delete(_dir, recursive: true);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    /// <summary>A tiny float64 Poisson run that would take far longer than any test: it ends by signal or by --steps on resume.</summary>
    string[] TinyRun(string name) =>
    [
        "run", "poisson1d", "--steps", "100000000", "--dtype", "float64", "--out", _dir, "--name", name,
        "--set", "training.threads=1", "--set", $"training.checkpoint_every={CheckpointEvery}", "--set", "training.log_every=10",
        "--set", "model.layers=[8, 8]", "--set", "training.batch.pde=64", "--set", "training.eval_every=0",
        "--set", "training.lbfgs_steps=0",
    ];

    string RunDir(string name) => Path.Combine(_dir, "poisson1d", name);

    static string CheckpointDir(string runDir) => Path.Combine(runDir, Runner.CheckpointFolder);

    [Theory]
    [InlineData(SIGTERM, 143)]
    [InlineData(SIGINT, 130)]
    public void A_signal_stops_the_run_with_checkpoint_and_results_and_exits_128_plus_the_signal(int signal, int exitCode)
    {
        var run = RunDir($"sig{signal}");
        var child = Start(TinyRun($"sig{signal}"));
        // The first checkpoint proves training is under way, so the signal handlers are registered.
        WaitFor(child, () => Directory.Exists(CheckpointDir(run)), "the first checkpoint");
        Kill(child.Pid, signal).Should().Be(0);
        child.WaitForExit(Patience).Should().Be(exitCode, child.Output);
        child.Output.Should().Contain($"interrupted: checkpoint and results so far are in {run}; continue with: pinn run --resume {run}");

        var metrics = Metrics(run);
        metrics.GetProperty("status").GetString().Should().Be("interrupted");
        var state = Checkpoint.Load(CheckpointDir(run)).State;
        state.Phase.Should().Be("adam");
        state.Step.Should().BeGreaterThanOrEqualTo(CheckpointEvery);
        metrics.GetProperty("adam_steps").GetInt32().Should().Be(state.Step, "the checkpoint is taken where the run stopped");
        File.Exists(Path.Combine(run, "prediction.npz")).Should().BeTrue("the results so far are written");

        ResumeCompletes(run, state.Step + 30);
    }

    [Fact]
    public void SIGTERM_to_reproduce_optim_stops_its_child_runs_and_still_writes_the_table()
    {
        var child = Start(["reproduce", "optim", "--only", "poisson1d", "--out", _dir]);
        var runs = Path.Combine(_dir, "sweeps", "optim-quick", "runs", "poisson1d");
        // A child run's log shows training under way (so every handler is registered), well before its 1-minute limit.
        WaitFor(child, () => Directory.Exists(runs) && Directory.EnumerateFiles(runs, "log.csv", SearchOption.AllDirectories).Any(), "a child run's log");
        Kill(child.Pid, SIGTERM).Should().Be(0);
        child.WaitForExit(Patience).Should().Be(143, child.Output);
        var table = File.ReadAllText(Path.Combine(_dir, "optim.md"));
        table.Should().Contain("| Poisson 1-D | Adam + L-BFGS |").And.Contain("interrupted");
        var written = Directory.EnumerateFiles(runs, "metrics.json", SearchOption.AllDirectories).ToList();
        written.Should().NotBeEmpty();
        foreach (var metrics in written)
            File.ReadAllText(metrics).Should().Contain("\"status\": \"interrupted\"", "each child got the signal and wrote its results");
    }

    /// <summary>
    /// kill -9 with the checkpoint writer frozen in the save of step 40 (the one of step 20 is in place). Until the
    /// first rename the previous checkpoint is the one found; from the moment the complete new one is the only
    /// candidate besides the moved-away old one, the new one is.
    /// </summary>
    [Theory]
    [InlineData("bin", 20)]     // state.bin half written in checkpoint.tmp
    [InlineData("json", 20)]    // state.bin complete, state.json half written
    [InlineData("written", 20)] // checkpoint.tmp complete, nothing renamed yet
    [InlineData("moved", 40)]   // checkpoint → checkpoint.old, checkpoint.tmp not yet renamed: no checkpoint folder at all
    [InlineData("swapped", 40)] // checkpoint.tmp → checkpoint, checkpoint.old not yet deleted
    public void Kill_9_during_a_checkpoint_write_leaves_a_complete_checkpoint_that_resumes(string stage, int expectedStep)
    {
        var name = "kill-" + stage;
        var run = RunDir(name);
        var child = Start(TinyRun(name), pause: $"{stage}@{2 * CheckpointEvery}");
        var marker = CheckpointDir(run) + ".paused";
        WaitFor(child, () => File.Exists(marker), $"the writer to pause at '{stage}'");
        File.ReadAllText(marker).Should().Be(stage);
        Kill(child.Pid, SIGKILL).Should().Be(0);
        child.WaitForExit(Patience).Should().Be(128 + SIGKILL, child.Output);
        File.Exists(Path.Combine(run, "metrics.json")).Should().BeFalse("a killed run writes no results");

        var state = Checkpoint.Load(CheckpointDir(run)).State;
        state.Phase.Should().Be("adam");
        state.Step.Should().Be(expectedStep);

        ResumeCompletes(run, 3 * CheckpointEvery);
        Directory.Exists(CheckpointDir(run) + ".tmp").Should().BeFalse("the next save cleans up after the crash");
        Directory.Exists(CheckpointDir(run) + ".old").Should().BeFalse();
        var final = Checkpoint.Load(CheckpointDir(run)).State;
        final.Phase.Should().Be("done");
        final.Step.Should().Be(3 * CheckpointEvery);
    }

    /// <summary><c>pinn run --resume RUN --steps N</c> ends normally and reports N Adam steps.</summary>
    void ResumeCompletes(string run, int steps)
    {
        var resumed = Start(["run", "--resume", run, "--steps", steps.ToString()]);
        resumed.WaitForExit(Patience).Should().Be(0, resumed.Output);
        var metrics = Metrics(run);
        metrics.GetProperty("status").GetString().Should().Be("completed");
        metrics.GetProperty("adam_steps").GetInt32().Should().Be(steps);
    }

    static JsonElement Metrics(string run) => JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json"))).RootElement;

    static void WaitFor(Child child, Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (child.HasExited) throw new Xunit.Sdk.XunitException($"the CLI exited ({child.ExitCode}) before {what}:\n{child.Output}");
            if (clock.Elapsed > Patience) throw new Xunit.Sdk.XunitException($"timed out after {Patience} waiting for {what}:\n{child.Output}");
            Thread.Sleep(50);
        }
    }

    Child Start(string[] args, string? pause = null)
    {
        var child = new Child(args, pause);
        _children.Add(child);
        return child;
    }

    /// <summary>
    /// The CLI built beside this test assembly (the test project references Pinn.Cli, so its Pinn.Cli.dll is always
    /// as fresh as the tests, whatever the configuration), run by the dotnet host that runs the tests. It is started
    /// through <c>env --default-signal=INT,TERM</c> (exec, same pid): a process started with SIGINT ignored — any
    /// background job of a non-interactive shell, e.g. a CI script — passes that on, and .NET then rightly leaves
    /// SIGINT ignored, which would make the SIGINT case test nothing.
    /// </summary>
    sealed class Child : IDisposable
    {
        readonly Process _process;
        readonly StringBuilder _output = new();

        public Child(string[] args, string? pause)
        {
            var cli = Path.Combine(AppContext.BaseDirectory, "Pinn.Cli.dll");
            File.Exists(cli).Should().BeTrue($"the CLI is built beside the tests ({cli})");
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
            var info = new ProcessStartInfo("env")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = TestPaths.Root,
            };
            foreach (var a in (string[])["--default-signal=INT,TERM", dotnet, cli, .. args]) info.ArgumentList.Add(a);
            info.Environment.Remove("PINN_TEST_CHECKPOINT_PAUSE");
            if (pause is not null) info.Environment["PINN_TEST_CHECKPOINT_PAUSE"] = pause;
            _process = new Process { StartInfo = info };
            _process.OutputDataReceived += (_, e) => Append(e.Data);
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        void Append(string? line)
        {
            if (line is null) return;
            lock (_output) _output.AppendLine(line);
        }

        public int Pid => _process.Id;
        public bool HasExited => _process.HasExited;
        public int ExitCode => _process.ExitCode;

        /// <summary>stdout and stderr so far, interleaved as they arrived.</summary>
        public string Output
        {
            get { lock (_output) return _output.ToString(); }
        }

        /// <summary>The exit code (128 + n for death by signal n); kills the child and fails if it takes longer than <paramref name="limit"/>.</summary>
        public int WaitForExit(TimeSpan limit)
        {
            if (!_process.WaitForExit(limit))
            {
                Dispose();
                throw new Xunit.Sdk.XunitException($"the CLI did not exit within {limit}:\n{Output}");
            }
            _process.WaitForExit(); // drains the redirected output
            return _process.ExitCode;
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(30));
            }
            catch (InvalidOperationException) { } // never started or already gone
            _process.Dispose();
        }
    }
}
