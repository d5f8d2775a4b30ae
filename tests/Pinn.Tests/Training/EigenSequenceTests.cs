using System.Text.Json.Nodes;
using Pinn.Config;
using Pinn.Problems;
using Pinn.Training;

namespace Pinn.Tests.Training;

/// <summary>Eigenproblems state by state: the eigenvalue trained with the network, deflation by orthogonality to the states found.</summary>
[Collection("training")]
public class EigenSequenceTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact, Trait("Category", "Pinned")]
    public void The_first_two_states_of_the_infinite_well_are_found_in_sequence()
    {
        var cfg = RunConfigLoader.Load(TestPaths.Problem("eigen/infinite_well_states.yaml"), ProblemCatalog.Instance,
                                       [$"output.dir={_dir}", "output.name=seq", "problem.eigen.states=2", "training.eval_every=0"]);
        var (dir, states) = EigenSequence.Run(cfg);
        states.Should().HaveCount(2);
        double[] exact = [Math.PI * Math.PI, 4 * Math.PI * Math.PI];
        foreach (var s in states)
        {
            s.Run.Result.Status.Should().Be("completed");
            s.Reference.Should().BeApproximately(exact[s.State], 1e-8 * exact[s.State], "the Schrödinger solver's energies are n²π²");
            // AMD EPYC, 1 thread, seed 0, hard Dirichlet constraints: E rel. errors 1.2e-7 / 9.9e-7, ψ rel. L2 9.4e-8 / 1.4e-6 (with penalty
            // BCs: 3.6e-8 / 5.2e-6 and 4.5e-7 / 6.2e-6); bounds ≥ 19× the worst.
            s.RelativeError.Should().BeLessThan(1e-4, $"state {s.State}'s eigenvalue");
            s.Run.Result.Error!.RelativeL2.Should().BeLessThan(1e-3, $"state {s.State}'s eigenfunction, up to sign");
            Path.GetFileName(s.Run.Directory).Should().Be($"state{s.State}");
        }
        // State 1 was trained orthogonal to state 0: the log carries that term.
        File.ReadLines(Path.Combine(states[1].Run.Directory, "log.csv")).First().Should().Contain("loss_orth_0");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "eigen.json")))!;
        json["states"]!.AsArray().Should().HaveCount(2);
        File.ReadAllText(Path.Combine(dir, "eigen.md")).Should().Contain("| 1 | 39.4");
    }

    string Write(string yaml)
    {
        var path = Path.Combine(_dir, "e.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    const string Well = """
        problem:
          name: well
          coordinates: {x: [0, 1]}
          fields: [psi]
          parameters: {E: 8}
          eigen: {parameter: E, states: 2}
          equations: ["-psi_xx = E*psi"]
          conditions:
            - {type: dirichlet, on: boundary, equation: "psi = 0"}
            - {type: integral, name: norm, equation: "integral(psi^2, x) = 1"}
          reference: {solver: schrodinger, potential: "0"}
        """;

    [Theory]
    [InlineData("    - {type: integral, name: norm, equation: \"integral(psi^2, x) = 1\"}\n", "", "needs a normalisation")]
    [InlineData("{parameter: E, states: 2}", "{parameter: F, states: 2}", "'F' is not a parameter")]
    [InlineData("{parameter: E, states: 2}", "{parameter: E, states: 0}", "at least 1")]
    [InlineData("potential: \"0\"", "potential: \"psi\"", "must not contain a field")]
    public void Bad_eigen_input_is_named(string find, string replace, string message)
    {
        var act = () => RunConfigLoader.Load(Write(Well.Replace(find, replace)), ProblemCatalog.Instance);
        act.Should().Throw<PinnException>().Which.Message.Should().Contain(message);
    }

    [Fact]
    public void Excited_states_start_from_the_given_or_the_box_ratio_eigenvalue()
    {
        var spec = new EigenSpec("E", "psi", 3, [5]);
        spec.Start(0, 8, null).Should().Be(5);
        spec.Start(1, 8, 10).Should().Be(40);
        spec.Start(2, 8, 40).Should().Be(90);
    }
}
