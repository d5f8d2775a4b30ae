using Pinn.Bench;
using Pinn.Models;
using Pinn.Problems;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Bench;

/// <summary>The optim suite times the objective the dense quasi-Newton phase minimises: it must be the step's own loss.</summary>
public class OptimBenchmarkTests
{
    [Theory]
    [InlineData("autograd", false)]
    [InlineData("jet", false)]
    [InlineData("jet", true)]
    public void Objective_is_the_steps_loss_and_its_gradient(string engine, bool hard)
    {
        using var step = new FixedBatchPinnStep(new Burgers1D(), [8, 8], ScalarType.Float64, interior: 64, initial: 16, boundary: 16,
                                                derivatives: engine, hardConstraints: hard ? new HardConstraintOptions(true, true) : null);
        step.Engine.Should().Be(engine);
        if (hard) step.Terms.Select(t => t.Name).Should().Equal("pde"); // ic and bc hold by construction
        var objective = step.Objective();
        objective.Count.Should().Be(step.Model.ParameterCount);
        using var scope = NewDisposeScope();
        var x = objective.Flatten();
        var (value, gradient) = objective.Evaluate(x);
        // Same graph, same parameters: the value is bit-identical to the step's loss.
        value.Should().Be(step.CurrentLoss());

        // The gradient against autograd of the step's own loss graph, read back parameter by parameter.
        foreach (var p in step.Model.TrainableParameters) p.grad?.zero_();
        step.Loss().backward();
        var expected = cat(step.Model.TrainableParameters.Select(p => p.grad!.flatten()).ToList(), 0);
        // The same backward graph on the same values: equal to the last bit.
        gradient.data<double>().ToArray().Should().Equal(expected.data<double>().ToArray());
    }
}
