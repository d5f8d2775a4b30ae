using FluentAssertions;
using Pinn.Config;
using Pinn.Problems;
using Pinn.Sweeps;
using Xunit;

namespace Pinn.Tests.Sweeps;

/// <summary>Sweep files, <c>extends:</c>, the manifest, the Slurm scripts and the report's statistics — no training.</summary>
public sealed class SweepFileTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    string Base() => Write("base.yaml", $"extends: {TestPaths.Problem("poisson1d/poisson1d.yaml")}\ntraining: {{steps: 10}}\n");

    [Fact]
    public void Configs_cases_grid_zip_and_seeds_expand_to_their_product_with_the_seed_fastest()
    {
        Base();
        Write("other.yaml", "extends: base.yaml\ntraining: {lr: 5e-3}\n");
        var sweep = SweepFile.Load(Write("s.yaml", """
            configs: [base.yaml, other.yaml]
            set: {training.log_every: 5}
            grid: {training.lr: [1e-3, 3e-3], model.layers: [[8, 8], [16]]}
            zip: {training.steps: [10, 20, 30], training.batch.pde: [64, 128, 256]}
            seeds: [3, 7]
            """));
        sweep.Runs.Should().HaveCount(2 * 2 * 2 * 3 * 2);
        sweep.Axes.Should().Equal("config", "training.lr", "model.layers", "training.steps", "training.batch.pde");
        var r = sweep.Runs[1];
        r.Overrides.Should().Equal("training.log_every=5", "training.lr=1e-3", "model.layers=[8, 8]", "training.steps=10",
                                   "training.batch.pde=64", "training.seed=7");
        r.Name.Should().Be("001-base-lr=1e-3-layers=8_8-steps=10-pde=64-seed7");
        sweep.Runs[2].Overrides.Should().Contain(["training.steps=20", "training.batch.pde=128", "training.seed=3"], "zip pairs its lists");
        sweep.Runs[^1].Config.Should().EndWith("other.yaml");
        sweep.Runs.Select(x => x.Name).Should().OnlyHaveUniqueItems();
        sweep.Runs.Select(x => x.Group).Distinct().Should().HaveCount(24, "a group is every coordinate but the seed");
        sweep.Directory.Should().Be(Path.Combine("results/sweeps", "s"));
    }

    [Fact]
    public void Cases_carry_their_overrides_and_metadata_and_a_seed_count_numbers_from_zero()
    {
        Base();
        var sweep = SweepFile.Load(Write("s.yaml", """
            name: paper
            config: base.yaml
            cases:
              - {name: plain, set: {model.type: mlp}, paper: 4.98e-1}
              - {name: modified, paper: 1.39e-4}
            seeds: 2
            out: elsewhere
            """));
        sweep.Runs.Select(x => x.Seed).Should().Equal(0, 1, 0, 1);
        sweep.Runs[0].Meta["paper"].Should().Be("4.98e-1");
        sweep.Runs[0].Overrides.Should().Equal("model.type=mlp", "training.seed=0");
        sweep.Runs[2].Coordinates.Select(c => $"{c.Axis}={c.Value}").Should().Equal("case=modified", "seed=0");
        sweep.Directory.Should().Be(Path.Combine("elsewhere", "paper"));
    }

    [Fact]
    public void Budgets_add_their_overrides_name_the_folder_and_can_leave_a_case_out()
    {
        Base();
        var path = Write("s.yaml", """
            config: base.yaml
            budgets: {quick: {training.steps: 5}, full: {}}
            cases:
              - {name: a, quick: {training.lr: 1e-2}, full: {training.lr: 1e-3}}
              - {name: b, budgets: [full]}
            """);
        var quick = SweepFile.Load(path);
        quick.Budget.Should().Be("quick", "the first budget is the default");
        quick.Name.Should().Be("s-quick");
        quick.Runs.Should().ContainSingle().Which.Overrides.Should().Equal("training.steps=5", "training.lr=1e-2", "training.seed=0");
        var full = SweepFile.Load(path, budget: "full");
        full.Runs.Select(r => r.Name).Should().Equal("000-a", "001-b");
        full.Runs[0].Overrides.Should().Equal("training.lr=1e-3", "training.seed=0");
        var act = () => SweepFile.Load(path, budget: "huge");
        act.Should().Throw<PinnException>().WithMessage("*unknown budget 'huge' (this file has quick, full)*");
    }

    [Theory]
    [InlineData("config: base.yaml\nzip: {training.lr: [1, 2], training.steps: [3]}\n", 2, "equal lengths")]
    [InlineData("config: base.yaml\ngrid: {training.lr: 1e-3}\n", 2, "expected a list of values")]
    [InlineData("config: base.yaml\ngrid: {training.seed: [1, 2]}\n", 2, "use 'seeds:'")]
    [InlineData("config: missing.yaml\n", 1, "config file not found: missing.yaml")]
    [InlineData("config: base.yaml\nseeds: 0\n", 2, "positive count")]
    [InlineData("config: base.yaml\nseeds: [1, 1]\n", 2, "listed twice")]
    [InlineData("config: base.yaml\ngird: {training.lr: [1]}\n", 2, "unknown key 'gird' (did you mean 'grid'?)")]
    [InlineData("config: base.yaml\nname: a b\n", 2, "names a folder")]
    [InlineData("grid: {training.lr: [1]}\n", null, "names no config")]
    public void Bad_sweep_files_name_the_file_line_and_key(string text, int? line, string message)
    {
        Base();
        var path = Write("bad.yaml", text);
        var act = () => SweepFile.Load(path);
        var e = act.Should().Throw<PinnException>().Which;
        e.File.Should().Be(path);
        e.Line.Should().Be(line);
        e.Message.Should().Contain(message);
    }

    [Fact]
    public void Extends_merges_mappings_replaces_lists_and_keeps_base_relative_paths_and_lines()
    {
        // the published inverse-Burgers config, with its data file two folders up as in problems/
        Directory.CreateDirectory(Path.Combine(_dir, "a"));
        Directory.CreateDirectory(Path.Combine(_dir, "data"));
        File.Copy(TestPaths.Problem("data/burgers_shock.mat"), Path.Combine(_dir, "data", "burgers_shock.mat"));
        File.Copy(TestPaths.Problem("inverse/burgers_shock.yaml"), Path.Combine(_dir, "a", "base.yaml"));
        var child = Write("child.yaml", "extends: a/base.yaml\nmodel: {layers: [4]}\ntraining: {batch: {pde: 20}}\n");
        var text = YamlDoc.Load(child).Text();
        text.Should().Contain("layers: [4]").And.NotContain("20, 20", "a list is replaced, not merged");
        text.Should().Contain("type: mlp", "mappings merge key by key").And.Contain("pde: 20").And.Contain("sampler: sobol");
        text.Should().NotContain("extends");
        // relative paths written in the base are relative to the base
        var cfg = RunConfigLoader.Load(child, ProblemCatalog.Instance);
        cfg.Document.Text().Should().Contain(Path.Combine(_dir, "data", "burgers_shock.mat")).And.NotContain("../data");
        // an error in a key the base wrote names the base file and its line
        Write("a/bad.yaml", "model: {layerz: [8]}\n");
        var bad = Write("bad.yaml", "extends: a/bad.yaml\nproblem: poisson1d\n");
        var act = () => RunConfigLoader.Load(bad, ProblemCatalog.Instance);
        var e = act.Should().Throw<PinnException>().Which;
        e.File.Should().EndWith(Path.Combine("a", "bad.yaml"));
        e.Line.Should().Be(1);
    }

    [Fact]
    public void Extends_refuses_a_cycle_and_a_missing_base_by_name()
    {
        Write("x.yaml", "extends: y.yaml\n");
        Write("y.yaml", "extends: x.yaml\n");
        var cycle = () => YamlDoc.Load(Path.Combine(_dir, "x.yaml"));
        cycle.Should().Throw<PinnException>().WithMessage("*already in the chain (x.yaml → y.yaml → x.yaml)*");
        var missing = Write("m.yaml", "extends: nowhere.yaml\n");
        var act = () => YamlDoc.Load(missing);
        var e = act.Should().Throw<PinnException>().Which;
        e.File.Should().Be(missing);
        e.Message.Should().Contain("nowhere.yaml");
    }

    [Fact]
    public void The_manifest_round_trips_and_records_a_bad_config_instead_of_failing()
    {
        Base();
        Write("broken.yaml", "extends: base.yaml\nmodel: {layerz: [8]}\n");
        var sweep = SweepFile.Load(Write("s.yaml", $"configs: [base.yaml, broken.yaml]\nseeds: 2\nout: {_dir}/out\n"));
        var m = SweepManifest.Expand(sweep, ProblemCatalog.Instance);
        m.Runs[0].RunDir.Should().Be(Path.Combine("runs", "poisson1d", "000-base-seed0"));
        m.Runs[2].RunDir.Should().BeNull();
        m.Runs[2].ConfigError.Should().Contain("broken.yaml:2").And.Contain("layerz");
        m.Save();
        var back = SweepManifest.Load(m.Directory);
        back.Runs.Select(e => (e.Run.Name, e.Run.Config, e.RunDir, e.ConfigError, string.Join(";", e.Run.Overrides)))
            .Should().Equal(m.Runs.Select(e => (e.Run.Name, e.Run.Config, e.RunDir, e.ConfigError, string.Join(";", e.Run.Overrides))));
        back.Axes.Should().Equal("config");
    }

    [Fact]
    public void Slurm_scripts_ask_for_the_resources_and_run_each_task_from_the_manifest()
    {
        Base();
        var sweep = SweepFile.Load(Write("s.yaml", $"config: base.yaml\nseeds: 6\nout: {_dir}/out\nslurm: {{partition: debug, time: '00:10:00', cpus: 2, gpus: 1, mem: 4G}}\n"));
        var m = SweepManifest.Expand(sweep, ProblemCatalog.Instance);
        var array = SlurmScripts.Array(m, sweep.Slurm, "/opt/pinn/Pinn.Cli", [0, 1, 2, 4, 5], parallel: 3);
        array.Should().StartWith("#!/bin/bash\n");
        array.Should().Contain("#SBATCH --array=0-2,4-5%3").And.Contain("#SBATCH --cpus-per-task=2").And.Contain("#SBATCH --partition=debug")
             .And.Contain("#SBATCH --time=00:10:00").And.Contain("#SBATCH --mem=4G").And.Contain("#SBATCH --gres=gpu:1")
             .And.Contain($"#SBATCH --output={m.Directory}/logs/%a.log");
        array.Should().Contain($"exec /opt/pinn/Pinn.Cli sweep {m.Directory}/sweep.json --task \"$SLURM_ARRAY_TASK_ID\" --threads 2");
        var report = SlurmScripts.Report(m, sweep.Slurm, "/opt/pinn/Pinn.Cli");
        report.Should().Contain($"exec /opt/pinn/Pinn.Cli report {m.Directory}").And.Contain("--cpus-per-task=1").And.NotContain("gres");
        SlurmScripts.Ranges([7, 3, 4, 5, 9]).Should().Be("3-5,7,9");
        SlurmScripts.Quote("it's here").Should().Be("'it'\\''s here'");
    }

    public static TheoryData<string> ShippedSweeps()
    {
        var data = new TheoryData<string>();
        foreach (var folder in new[] { "sweeps", "reproduce" })
            foreach (var f in Directory.GetFiles(TestPaths.Problem(folder), "*.yaml").Order()) data.Add($"{folder}/{Path.GetFileName(f)}");
        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedSweeps))]
    public void Every_shipped_sweep_file_expands_and_every_run_config_loads(string file)
    {
        foreach (var budget in new string?[] { null, "quick", "full" })
        {
            var path = TestPaths.Problem(file);
            if (budget is not null && !File.ReadAllText(path).Contains("budgets:")) continue;
            var sweep = SweepFile.Load(path, null, Path.Combine(_dir, "out"), budget);
            var m = SweepManifest.Expand(sweep, ProblemCatalog.Instance);
            m.Runs.Should().NotBeEmpty();
            m.Runs.Where(e => e.ConfigError is not null).Select(e => $"{e.Run.Name}: {e.ConfigError}").Should().BeEmpty();
        }
    }

    [Fact]
    public void Statistics_are_mean_sample_std_min_and_max_of_the_finite_values()
    {
        var s = SweepReport.Of([1, 2, 3, 4, double.NaN]);
        s.N.Should().Be(4);
        s.Mean.Should().Be(2.5);
        s.Std.Should().BeApproximately(Math.Sqrt(5.0 / 3.0), 1e-15);
        (s.Min, s.Max).Should().Be((1, 4));
        SweepReport.Of([2]).Std.Should().Be(double.NaN, "one seed has no spread");
        SweepReport.Of([]).N.Should().Be(0);
    }
}
