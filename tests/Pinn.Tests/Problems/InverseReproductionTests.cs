using Pinn.Config;
using Pinn.Problems;
using Pinn.References;

namespace Pinn.Tests.Problems;

/// <summary>`pinn reproduce inverse` without training: every case's config loads, and the Burgers observations are the published data.</summary>
public class InverseReproductionTests
{
    [Fact]
    public void Every_case_config_loads_with_its_trainable_parameters_or_eigen_sequence()
    {
        foreach (var c in InverseReproduction.Parameters)
        {
            var cfg = RunConfigLoader.Load(TestPaths.Problem(c.Config), ProblemCatalog.Instance);
            cfg.Problem.TrainableParameters.Should().NotBeEmpty(c.Config);
            cfg.Problem.TrainableParameters.Should().OnlyContain(p => p.Truth != null, "each parameter's error is reported against its truth");
            cfg.Problem.Conditions.OfType<ObservationCondition>().Should().NotBeEmpty(c.Config);
        }
        foreach (var c in InverseReproduction.Eigen)
        {
            var cfg = RunConfigLoader.Load(TestPaths.Problem(c.Config), ProblemCatalog.Instance);
            cfg.Problem.Eigen!.States.Should().Be(3, "the first three states of each potential");
            cfg.Problem.EigenReferences.Should().NotBeNull(c.Config);
            cfg.Problem.EigenReferences!.Description.Should().MatchRegex(@"of -\w+'' \+ \(.+\) \w+ = E \w+ on",
                "the description names the field (C# 14's `field` keyword once took the constructor parameter's place and printed nothing)");
        }
    }

    [Fact]
    public void The_Burgers_observations_are_2000_points_of_the_published_solution_and_the_noisy_case_differs_by_one_percent()
    {
        var clean = RunConfigLoader.Load(TestPaths.Problem("inverse/burgers_shock.yaml"), ProblemCatalog.Instance).Problem;
        var noisy = RunConfigLoader.Load(TestPaths.Problem("inverse/burgers_shock_noisy.yaml"), ProblemCatalog.Instance).Problem;
        var obs = clean.Conditions.OfType<ObservationCondition>().Single();
        var obsNoisy = noisy.Conditions.OfType<ObservationCondition>().Single();
        obs.Points.GetLength(0).Should().Be(2000);
        var mat = MatFile.Read(TestPaths.Problem("data/burgers_shock.mat"));
        var x = mat.RealArray("x").Data;
        var t = mat.RealArray("t").Data;
        var u = mat.RealArray("usol");
        for (int i = 0; i < 2000; i += 97)
        {
            int ix = Array.IndexOf(x, obs.Points[i, 0]), it = Array.IndexOf(t, obs.Points[i, 1]);
            ix.Should().BeGreaterThanOrEqualTo(0, "an observation sits on the published grid");
            it.Should().BeGreaterThanOrEqualTo(0);
            obs.Values[i, 0].Should().Be(u[ix, it], "u[x, t] as published");
        }
        obsNoisy.Points.Cast<double>().Should().Equal(obs.Points.Cast<double>(), "the same seed picks the same points");
        var diff = Enumerable.Range(0, 2000).Select(i => obsNoisy.Values[i, 0] - obs.Values[i, 0]).ToArray();
        double sd = MathNet.Numerics.Statistics.Statistics.PopulationStandardDeviation(Enumerable.Range(0, u.Data.Length).Select(i => u.Data[i]));
        // 2000 draws: the sample sd of the noise is within 10% of 1% of u's sd (≈ 4.5 standard errors).
        MathNet.Numerics.Statistics.Statistics.StandardDeviation(diff).Should().BeApproximately(0.01 * sd, 0.1 * 0.01 * sd);
    }
}
