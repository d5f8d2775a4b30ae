using System.Text.Json;
using Pinn.Config;
using Pinn.Problems;
using Pinn.Training;

namespace Pinn.Tests.Config;

/// <summary>
/// run.yaml is the loaded document written back (RunConfigLoader fills in every default it reads), so it
/// must read back to the config that produced it — for every shipped config — and a run directory must be
/// enough to re-evaluate and to continue the run, for every model kind.
/// </summary>
public class ConfigRoundTripTests
{
    public static TheoryData<string> ShippedConfigs()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(TestPaths.Root, "problems"), "*.yaml", SearchOption.AllDirectories)
                                   .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !IsSweepFile(f))
                                   .Order())
            data.Add(Path.GetRelativePath(Path.Combine(TestPaths.Root, "problems"), f));
        return data;
    }

    /// <summary>Sweep files (problems/sweeps/, problems/reproduce/) are not run configs: SweepFileTests checks them.</summary>
    public static bool IsSweepFile(string path)
    {
        var rel = Path.GetRelativePath(Path.Combine(TestPaths.Root, "problems"), path);
        return rel.StartsWith("sweeps" + Path.DirectorySeparatorChar) || rel.StartsWith("reproduce" + Path.DirectorySeparatorChar);
    }

    static readonly JsonSerializerOptions Json = new() { IncludeFields = true }; // fields: the (mean, std) tuple

    /// <summary>Everything a run reads from its config, as text: equal text, equal run.</summary>
    static string Canonical(RunConfig c) =>
        string.Join("\n", c.Problem.Describe(),
            string.Join(",", c.Problem.ParameterNames.Select(n => $"{n}={c.Problem.ParameterValues[n]:R}")),
            JsonSerializer.Serialize(c.Model, Json), JsonSerializer.Serialize(c.Training, Json),
            JsonSerializer.Serialize(c.Evaluation, Json), JsonSerializer.Serialize(c.Output, Json));

    [Theory]
    [MemberData(nameof(ShippedConfigs))]
    public void Resolved_config_reads_back_to_an_equal_config(string config)
    {
        var first = RunConfigLoader.Load(TestPaths.Problem(config), ProblemCatalog.Instance, ["training.steps=7"]);
        var written = first.Document.Text();

        var dir = TestPaths.TempDir();
        try
        {
            var runYaml = Path.Combine(dir, "run.yaml"); // elsewhere than the original: relative paths must not matter
            File.WriteAllText(runYaml, written);
            var again = RunConfigLoader.Load(runYaml, ProblemCatalog.Instance);
            Canonical(again).Should().Be(Canonical(first));
            again.Document.Text().Should().Be(written, "reading the resolved config adds nothing: it is a fixed point");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Resolved_config_lists_every_default_it_used()
    {
        var cfg = RunConfigLoader.Load("heat1d", ProblemCatalog.Instance, ["training.steps=7"]);
        var text = cfg.Document.Text();
        foreach (var key in new[] { "lr:", "decay_rate:", "sampler:", "lbfgs_history:", "dtype:", "derivatives:", "activation:", "alpha:" })
            text.Should().Contain(key);
    }

    public static TheoryData<string, string> ForeignModelKeys() => new()
    {
        { "gp", "layers: [8, 8]" },
        { "pig", "layers: [8, 8]" },
        { "mlp", "grid: {x: 50}" },
        { "mlp", "gaussians: {count: 10}" },
        { "modified_mlp", "max_frequency: 3" },
    };

    [Theory]
    [MemberData(nameof(ForeignModelKeys))]
    public void A_key_of_another_model_type_is_named_as_such(string type, string key)
    {
        var extra = type == "gp" ? ", grid: {x: 50}, max_frequency: 3" : "";
        var doc = YamlDoc.Parse($"problem: poisson1d\nmodel: {{type: {type}, {key}{extra}}}\n", "cfg.yaml");
        var act = () => RunConfigLoader.Read(doc, ProblemCatalog.Instance);
        var name = key[..key.IndexOf(':')];
        act.Should().Throw<PinnException>().WithMessage($"cfg.yaml:2: 'model.{name}' does not apply to model type '{type}' (it is a key of *");
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("modified_mlp")]
    [InlineData("pig")]
    [InlineData("gp")]
    public void A_resolved_model_section_holds_only_its_types_keys(string type)
    {
        var extra = type == "gp" ? ", grid: {x: 50}, max_frequency: 3" : "";
        var cfg = RunConfigLoader.Read(YamlDoc.Parse($"problem: poisson1d\nmodel: {{type: {type}{extra}}}\n", "cfg.yaml"), ProblemCatalog.Instance);
        var model = (YamlDotNet.RepresentationModel.YamlMappingNode)cfg.Document.Root.Children[new YamlDotNet.RepresentationModel.YamlScalarNode("model")];
        var keys = model.Children.Keys.Select(k => k.ToString()).ToList();
        keys.Should().BeSubsetOf(RunConfigLoader.ModelKeys[type]);
        keys.Count.Should().BeGreaterThan(1, "the defaults of the type are written in");
    }
}

/// <summary>
/// For each model kind: <c>pinn eval</c> of a finished run reproduces its error, and an interrupted run
/// resumed from its directory ends bit-identical to an uninterrupted one.
/// </summary>
[Collection("training")]
public class RunDirectoryRoundTripTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Tiny float64 budgets per model kind (seconds each): enough steps to cross a checkpoint and a redraw.</summary>
    static readonly Dictionary<string, (string Target, string[] Overrides)> Kinds = new()
    {
        ["mlp"] = ("heat1d", ["model.layers=[12, 12]", "training.batch={pde: 128, ic: 32, bc: 32}", "training.steps=40", "training.lbfgs_steps=6"]),
        ["modified_mlp"] = ("heat1d", ["model.type=modified_mlp", "model.layers=[12, 12]", "training.batch={pde: 128, ic: 32, bc: 32}",
                                       "training.steps=40", "training.lbfgs_steps=6"]),
        // The wrapper around the network (hard constraints): same parameters, so checkpoints, eval and resume work unchanged.
        ["mlp_hard"] = ("heat1d", ["model.layers=[12, 12]", "model.hard_constraints={initial: true, dirichlet: true}",
                                   "training.batch={pde: 128}", "training.steps=40", "training.lbfgs_steps=6"]),
        ["pig"] = ("helmholtz2d/helmholtz2d.yaml", ["model.gaussians.count=24", "model.gaussians.channels=2",
                                                     "training.batch={pde: 128, bc: 64}", "training.steps=40", "training.lbfgs_steps=6"]),
        ["gp"] = ("gp/poisson1d_sin20.yaml", ["model.grid={x: 60}", "model.max_frequency=3", "model.components=6",
                                               "model.solve_every=9", "training.steps=40"]),
    };

    RunConfig Config(string kind, string name)
    {
        var (target, overrides) = Kinds[kind];
        var path = target.EndsWith(".yaml") ? TestPaths.Problem(target) : target;
        return RunConfigLoader.Load(path, ProblemCatalog.Instance,
            overrides.Concat([$"output.dir={_dir}", $"output.name={name}", "training.threads=1", "training.dtype=float64",
                              "training.log_every=5", "training.eval_every=20", "training.checkpoint_every=15",
                              "training.resample_every=4", "evaluation.grid=" + (kind is "pig" ? "[21, 21]" : kind == "gp" ? "[61]" : "[21, 11]")]));
    }

    sealed class StopAt(CancellationTokenSource cts, int step) : ITrainingObserver
    {
        public void OnLog(LogEntry entry) { }
        public void OnStep(int s, int total, double loss) { if (s == step) cts.Cancel(); }
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("mlp_hard")]
    [InlineData("modified_mlp")]
    [InlineData("pig")]
    [InlineData("gp")]
    public void Eval_and_resume_from_the_run_directory_reproduce_the_run(string kind)
    {
        var straight = Runner.Run(Config(kind, "straight"));
        straight.Result.Status.Should().Be("completed");

        // pinn eval: the checkpoint + run.yaml alone give the run's own error (same model, same reference grid).
        var (_, error, state) = RunEvaluator.Evaluate(straight.Directory, ProblemCatalog.Instance);
        state.Phase.Should().Be("done");
        error.RelativeL2.Should().BeApproximately(straight.Result.Error!.RelativeL2, 1e-12 * straight.Result.Error.RelativeL2);

        using var cts = new CancellationTokenSource();
        var first = Runner.Run(Config(kind, "interrupted"), new StopAt(cts, 23), cts.Token);
        first.Result.Status.Should().Be("interrupted");
        var resumed = Runner.Resume(first.Directory, ProblemCatalog.Instance).Result;
        resumed.Status.Should().Be("completed");
        // Same batches, optimiser moments, schedule and GP solves: equal to the last bit.
        resumed.FinalLoss.Should().Be(straight.Result.FinalLoss);
        resumed.Error!.RelativeL2.Should().Be(straight.Result.Error.RelativeL2);
    }
}
