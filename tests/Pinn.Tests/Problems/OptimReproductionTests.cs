using System.Text.Json.Nodes;
using Pinn.Config;
using Pinn.Problems;
using Pinn.Sweeps;
using Pinn.Training.Phases;

namespace Pinn.Tests.Problems;

/// <summary>`pinn reproduce optim` without training: the runs of problems/reproduce/optim.yaml, and the details table and plot built from runs' outputs.</summary>
public class OptimReproductionTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string File = TestPaths.Problem("reproduce/optim.yaml");

    static readonly Dictionary<string, double> QuickMinutes = new()
    {
        ["burgers"] = 4, ["burgers_nu001"] = 4, ["allen_cahn"] = 8, ["poisson1d"] = 1, ["heat1d"] = 1, ["poisson2d"] = 2,
        ["helmholtz2d"] = 4, ["klein_gordon"] = 3, ["helmholtz2d_pig"] = 5, ["klein_gordon_pig"] = 5,
    };

    static readonly Dictionary<string, double> FullMinutes = new()
    {
        ["burgers"] = 15, ["burgers_nu001"] = 20, ["allen_cahn"] = 30, ["poisson1d"] = 3, ["heat1d"] = 3, ["poisson2d"] = 6,
        ["helmholtz2d"] = 15, ["klein_gordon"] = 10, ["helmholtz2d_pig"] = 15, ["klein_gordon_pig"] = 15,
    };

    static string Case(SweepManifest.Entry e) => e.Run.Coordinates.Single(c => c.Axis == "case").Value;

    SweepManifest Expand(string budget) =>
        SweepManifest.Expand(SweepFile.Load(File, null, _dir, budget), ProblemCatalog.Instance);

    [Theory]
    [InlineData("quick")]
    [InlineData("full")]
    public void Every_case_is_its_record_config_with_only_the_last_phase_and_the_wall_time_changed(string budget)
    {
        var m = Expand(budget);
        m.Runs.Should().HaveCount(57, "10 problems × the optimisers that apply to each (ENGD on the linear ones; PIG and Allen–Cahn a subset; LM with and without geodesic acceleration)");
        m.Runs.Select(e => e.RunDir).Should().OnlyHaveUniqueItems("two cases of one problem (Burgers at two viscosities) must not share a run folder");
        foreach (var e in m.Runs)
        {
            e.ConfigError.Should().BeNull(e.Run.Name);
            var cfg = RunConfigLoader.Load(e.Run.Config, ProblemCatalog.Instance, SweepManifest.RunOverrides(e.Run, m.Directory));
            var original = RunConfigLoader.Load(e.Run.Config, ProblemCatalog.Instance);
            Path.GetFileName(e.Run.Config).Should().EndWith("_ssbroyden.yaml", "every case starts from a record config");
            var name = Case(e);
            var slug = name[(name.LastIndexOf('-') + 1)..];
            var phases = cfg.Training.Phases!;
            phases.Should().HaveCount(original.Training.Phases!.Count, e.Run.Name);
            phases[0].Should().Be(original.Training.Phases[0], "the warm-up is the record config's");
            phases[^1].Name.Should().Be(slug == "geolm" ? "lm" : slug, e.Run.Name);
            if (phases[^1] is LmPhaseOptions withGeodesic)
                withGeodesic.Lm.Geodesic.Should().Be(slug == "geolm", "*-geolm runs LM with geodesic acceleration (the default), *-lm without it");
            phases[^1].Steps.Should().BeGreaterThan(1_000_000, "the wall time, not the step count, ends every run");
            var recordResample = ((QuasiNewtonPhaseOptions)original.Training.Phases[^1]).Resample;
            if (phases[^1] is QuasiNewtonPhaseOptions q) q.Resample.Should().Be(recordResample, "BFGS and SSBroyden resample as the record config does");
            if (phases[^1] is LbfgsPhaseOptions l) l.LineSearch.Should().Be(LbfgsLineSearch.StrongWolfe);
            if (phases[^1] is LmPhaseOptions lm)
                lm.Resample.Should().Be(recordResample is null ? null : recordResample with { Every = 50 }, "LM resamples from the same pool in shorter cycles");
            if (slug != "engd") cfg.Training.Batch.Should().BeEquivalentTo(original.Training.Batch, "the batch is the record config's");
            var stem = name[..name.LastIndexOf('-')];
            cfg.Training.TimeLimit.Should().Be(60 * (budget == "quick" ? QuickMinutes : FullMinutes)[stem], "every method of a problem gets the same wall time");
            cfg.Training.Threads.Should().Be(1);
            cfg.Training.CheckpointEvery.Should().Be(0);
            cfg.Training.DType.Should().Be("float64");
            cfg.Model.Should().BeEquivalentTo(original.Model, "the network is the record config's");
            e.Run.Meta.Should().ContainKeys("benchmark", "method", "target", "published");
        }
        if (budget == "quick")
            m.Runs.Sum(e => QuickMinutes[Case(e)[..Case(e).LastIndexOf('-')]]).Should().BeLessThan(OptimReproduction.Jobs * 100,
                "the quick budget (six methods and LM twice, PIG cases included: 194 run-minutes) fits 100 minutes on 2 cores");
    }

    [Fact]
    public void The_details_table_and_plot_come_from_each_runs_metrics_and_log_and_a_failed_run_keeps_its_row()
    {
        var m = Expand("quick");
        m.Save();
        var poisson = m.Runs.Where(e => Case(e).StartsWith("poisson1d-", StringComparison.Ordinal)).ToList();
        poisson.Should().HaveCount(7, "Poisson 1-D is linear: every method runs on it (LM with and without geodesic acceleration)");
        foreach (var e in poisson)
        {
            var method = Case(e)["poisson1d-".Length..];
            if (method == "bfgs")
            {
                new TaskRecord(e.Run.Index, e.Run.Name, 1, "failed", "error: something went wrong", 3, "host", DateTimeOffset.UtcNow, null).Save(m.Directory);
                continue; // no metrics.json: the row says why
            }
            var dir = m.PathOf(e);
            Directory.CreateDirectory(dir);
            double error = method == "ssbroyden" ? 1e-6 : 1e-3;
            System.IO.File.WriteAllText(Path.Combine(dir, "log.csv"),
                $"phase,step,seconds,lr,loss,loss_pde,rel_l2_u\nadam,0,0.1,0.001,1,1,0.5\n{method},100,30,,1e-6,1e-6,{error}\n");
            System.IO.File.WriteAllText(Path.Combine(dir, "metrics.json"), new JsonObject
            {
                ["problem"] = "poisson1d", ["status"] = "completed", ["relative_l2"] = error, ["wall_seconds"] = 60.0,
                ["parameter_count"] = 901, ["phases"] = new JsonArray(
                    new JsonObject { ["optimizer"] = "adam", ["steps"] = 1000, ["stop"] = "" },
                    new JsonObject { ["optimizer"] = method, ["steps"] = 4321, ["evaluations_per_line_search"] = 1.25, ["stop"] = "time limit" }),
            }.ToJsonString());
        }

        var md = OptimReproduction.Details(SweepReport.Collect(m.Directory), new StringWriter());
        md.Should().Contain("| Poisson 1-D | Adam → SSBroyden | **1.00e-06** | 1000 adam + 4321 ssbroyden | 1.0 | 901 | 1.25 | time limit |");
        md.Should().Contain("| Poisson 1-D | Adam + L-BFGS | 1.00e-03 | 1000 adam + 4321 lbfgs |");
        md.Should().Contain("| Poisson 1-D | Adam → BFGS | — | — | — | — | — | failed: error: something went wrong |");
        md.Should().NotContain("| Burgers, ν = 0.01/π |", "runs not started yet are named by the report, not tabulated");
        new FileInfo(Path.Combine(m.Directory, "optim.png")).Length.Should().BeGreaterThan(5000);

        var table = SweepReport.Table(SweepReport.Collect(m.Directory));
        table.Should().Contain("| poisson1d-lm | Poisson 1-D | Adam → LM (plain) | ≤ 1e-10 in ≤ 5 min | — | 1/1 | 1.00e-03 |", "the Gauss–Newton rows carry issue 14's target");
        table.Should().Contain("| poisson1d-ssbroyden | Poisson 1-D | Adam → SSBroyden | ≤ 1e-7 | — | 1/1 | 1.00e-06 |");
        table.Should().Contain("Not started yet (50): ").And.Contain("| 016-poisson1d-bfgs | failed | 1 | error: something went wrong |");
    }
}
