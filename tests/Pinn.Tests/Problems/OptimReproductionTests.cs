using System.Text.Json.Nodes;
using Pinn.Config;
using Pinn.Problems;
using Pinn.Training.Phases;

namespace Pinn.Tests.Problems;

/// <summary>`pinn reproduce optim` without training: the configs it writes, and the table and plot it builds from runs' outputs.</summary>
public class OptimReproductionTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string ProblemsDir => TestPaths.Problem("");

    [Theory]
    [InlineData("quick")]
    [InlineData("full")]
    public void Every_case_and_method_gets_a_valid_config_that_differs_only_in_its_last_phase(string budget)
    {
        var jobs = OptimReproduction.Plan(budget, _dir, ProblemCatalog.Instance, ProblemsDir);
        jobs.Should().HaveCount(OptimReproduction.Cases.Sum(c => OptimReproduction.Methods.Count(c.Runs)));
        jobs.Should().Contain(j => j.Method.Slug == "lm", "the Gauss–Newton rows of issue 14");
        jobs.Select(j => j.RunDir).Should().OnlyHaveUniqueItems("two cases of one problem (Burgers at two viscosities) must not share a run folder");
        foreach (var j in jobs)
        {
            var cfg = RunConfigLoader.Load(j.ConfigPath, ProblemCatalog.Instance);
            var original = RunConfigLoader.Load(TestPaths.Problem(j.Case.Config), ProblemCatalog.Instance);
            var phases = cfg.Training.Phases!;
            phases.Should().HaveCount(original.Training.Phases!.Count, j.ConfigPath);
            phases[0].Should().Be(original.Training.Phases[0], "the warm-up is the record config's");
            phases[^1].Name.Should().Be(j.Method.Slug);
            phases[^1].Steps.Should().BeGreaterThan(1_000_000, "the wall time, not the step count, ends every run");
            if (phases[^1] is QuasiNewtonPhaseOptions q && original.Training.Phases[^1] is QuasiNewtonPhaseOptions o)
                q.Resample.Should().Be(o.Resample, "BFGS and SSBroyden resample as the record config does");
            if (phases[^1] is LbfgsPhaseOptions l) l.LineSearch.Should().Be(LbfgsLineSearch.StrongWolfe);
            if (phases[^1] is LmPhaseOptions lm && original.Training.Phases[^1] is QuasiNewtonPhaseOptions { Resample: { } rs })
                lm.Resample.Should().Be(rs with { Every = OptimReproduction.GaussNewtonCycle }, "LM resamples from the same pool in shorter cycles");
            if (j.Case.TuningOf(j.Method).Count == 0)
                cfg.Training.Batch.Should().BeEquivalentTo(original.Training.Batch, "without tuning the batch is the record config's");
            cfg.Training.TimeLimit.Should().Be(60 * (budget == "quick" ? j.Case.QuickMinutes : j.Case.FullMinutes));
            cfg.Training.Threads.Should().Be(1);
            cfg.Training.DType.Should().Be("float64");
            cfg.Model.Should().BeEquivalentTo(original.Model, "the network is the record config's");
            j.RunDir.Should().Be(Path.Combine(Path.GetFullPath(_dir), cfg.Problem.Name, j.Name));
        }
        if (budget == "quick")
            jobs.Sum(j => j.Minutes).Should().BeLessThan(OptimReproduction.Jobs * 80, "the quick budget (six methods, PIG cases included: 157 run-minutes) fits 80 minutes on 2 cores");
    }

    [Fact]
    public void A_filter_that_matches_nothing_names_the_cases()
    {
        var act = () => OptimReproduction.Plan("quick", _dir, ProblemCatalog.Instance, ProblemsDir, only: "navier");
        act.Should().Throw<PinnException>().WithMessage("*no case matches 'navier'*burgers/burgers_ssbroyden.yaml*");
    }

    [Fact]
    public void The_table_and_plot_come_from_each_runs_metrics_and_log_and_a_failed_run_keeps_its_row()
    {
        var launched = new List<string>();
        Task<int> Fake(string config, string log, CancellationToken cancel)
        {
            var cfg = RunConfigLoader.Load(config, ProblemCatalog.Instance);
            lock (launched) launched.Add(config);
            var method = cfg.Training.Phases![^1].Name;
            File.WriteAllText(log, "training…\n" + (method == "bfgs" ? "error: something went wrong\n" : ""));
            if (method == "bfgs") return Task.FromResult(1); // no metrics.json: the row says why
            var dir = Path.Combine(cfg.Output.Dir, cfg.Problem.Name, cfg.Output.Name!);
            Directory.CreateDirectory(dir);
            double error = method == "ssbroyden" ? 1e-6 : 1e-3;
            File.WriteAllText(Path.Combine(dir, "log.csv"),
                $"phase,step,seconds,lr,loss,loss_pde,rel_l2_u\nadam,0,0.1,0.001,1,1,0.5\n{method},100,30,,1e-6,1e-6,{error}\n");
            File.WriteAllText(Path.Combine(dir, "metrics.json"), new JsonObject
            {
                ["problem"] = cfg.Problem.Name, ["status"] = "completed", ["relative_l2"] = error, ["wall_seconds"] = 60.0,
                ["parameter_count"] = 901, ["phases"] = new JsonArray(
                    new JsonObject { ["optimizer"] = "adam", ["steps"] = 1000, ["stop"] = "" },
                    new JsonObject { ["optimizer"] = method, ["steps"] = 4321, ["evaluations_per_line_search"] = 1.25, ["stop"] = "time limit" }),
            }.ToJsonString());
            return Task.FromResult(0);
        }

        var progress = new StringWriter();
        var path = OptimReproduction.Run("quick", _dir, ProblemCatalog.Instance, progress, ProblemsDir, Fake, only: "poisson1d");
        launched.Should().HaveCount(OptimReproduction.Methods.Count, "Poisson 1-D is linear: every method runs on it");
        var md = File.ReadAllText(path);
        md.Should().Contain("| Poisson 1-D | Adam → SSBroyden | **1.00e-06** | 1000 adam + 4321 ssbroyden | 1.0 | 901 | 1.25 | time limit | ≤ 1e-7 |");
        md.Should().Contain("| Poisson 1-D | Adam + L-BFGS | 1.00e-03 | 1000 adam + 4321 lbfgs |");
        md.Should().Contain("| Poisson 1-D | Adam → BFGS | — | — |").And.Contain("exit 1: error: something went wrong");
        md.Should().Contain("| Poisson 1-D | Adam → LM | 1.00e-03 | 1000 adam + 4321 lm |").And.Contain("≤ 1e-10 in ≤ 5 min");
        File.Exists(Path.Combine(_dir, "optim", "optim.png")).Should().BeTrue();
        new FileInfo(Path.Combine(_dir, "optim", "optim.png")).Length.Should().BeGreaterThan(5000);

        // A second run of one method replaces that method's row and keeps the others, and the runs list grows.
        launched.Clear();
        OptimReproduction.Run("quick", _dir, ProblemCatalog.Instance, progress, ProblemsDir, Fake, only: "poisson1d", methods: ["ssbroyden"]);
        launched.Should().HaveCount(1);
        var again = File.ReadAllText(path);
        again.Should().Contain("| Poisson 1-D | Adam → SSBroyden | **1.00e-06** |").And.Contain("| Poisson 1-D | Adam → LM | 1.00e-03 |")
             .And.Contain("| Poisson 1-D | Adam → BFGS | — | — |");
        again.Split('\n').Count(l => l.StartsWith("| Poisson 1-D | Adam → SSBroyden", StringComparison.Ordinal)).Should().Be(1);
        again.Split('\n').Count(l => l.Contains("UTC, budget quick", StringComparison.Ordinal)).Should().Be(2);
    }

    [Fact]
    public void An_unknown_method_is_refused_by_name()
    {
        var act = () => OptimReproduction.Plan("quick", _dir, ProblemCatalog.Instance, ProblemsDir, methods: ["adamw"]);
        act.Should().Throw<PinnException>().WithMessage("*unknown method 'adamw'*lbfgs, bfgs, ssbroyden, lm*");
    }
}
