using Pinn.Config;
using Pinn.Problems;
using Pinn.Training.Phases;

namespace Pinn.Tests.Config;

/// <summary>`--set key=value` (YamlDoc.Set): dotted paths into mappings, and list indices (negative from the end) into lists.</summary>
public class OverrideTests
{
    const string Config = """
        problem: poisson1d
        model: {layers: [20, 20]}
        training:
          dtype: float64
          phases:
            - adam: {steps: 100, lr: 1e-3}
            - ssbroyden: {steps: 200}
        """;

    static RunConfig Load(params string[] overrides)
    {
        var doc = YamlDoc.Parse(Config, "test.yaml");
        foreach (var o in overrides) doc.Set(o);
        var path = Path.Combine(TestPaths.TempDir(), "run.yaml");
        using (var w = new StreamWriter(path)) doc.Save(w);
        return RunConfigLoader.Load(path, ProblemCatalog.Instance);
    }

    [Fact]
    public void A_negative_index_replaces_the_last_list_entry_whole()
    {
        var cfg = Load("training.phases.-1={lm: {steps: 7}}");
        cfg.Training.Phases!.Select(p => p.Name).Should().Equal("adam", "lm");
        cfg.Training.Phases[1].Steps.Should().Be(7);
        cfg.Training.Phases[0].Steps.Should().Be(100, "the other entries are untouched");
    }

    [Fact]
    public void An_index_walks_into_an_entry_and_keeps_its_other_keys()
    {
        var cfg = Load("training.phases.0.adam.steps=300", "training.phases.1.ssbroyden.steps=9");
        cfg.Training.Phases!.Select(p => p.Steps).Should().Equal(300, 9);
        ((AdamPhaseOptions)cfg.Training.Phases[0]).LearningRate.Should().Be(1e-3);
    }

    [Theory]
    [InlineData("training.phases.2={lm: {steps: 7}}", "*training.phases has 2 entries; index 2 is outside it*")]
    [InlineData("training.phases.-3.adam.steps=1", "*training.phases has 2 entries; index -3 is outside it*")]
    [InlineData("training.phases.last.steps=1", "*training.phases is a list; expected an index*got 'last'*")]
    [InlineData("model.layers.0.width=1", "*model.layers.0 is a single value, not a mapping*")]
    public void A_bad_index_is_named(string assignment, string message)
    {
        var doc = YamlDoc.Parse(Config, "test.yaml");
        var act = () => doc.Set(assignment);
        act.Should().Throw<PinnException>().WithMessage(message);
    }
}
