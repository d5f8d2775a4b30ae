using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Training;

public class LbfgsTests
{
    [Fact]
    public void Minimises_the_Rosenbrock_function_to_its_minimum()
    {
        using var scope = NewDisposeScope();
        var p = new TorchSharp.Modules.Parameter(tensor(new[] { -1.2, 1.0 }, dtype: ScalarType.Float64));
        var lbfgs = new Lbfgs([p], history: 10);
        var r = lbfgs.Minimize(() => (1 - p[0]).square() + 100 * (p[1] - p[0].square()).square(), 500);
        // The minimum is (1, 1) with f = 0; L-BFGS with backtracking gets there to ~1e-8 in < 100 iterations.
        r.FinalLoss.Should().BeLessThan(1e-12);
        p.data<double>().ToArray().Should().BeEquivalentTo(new[] { 1.0, 1.0 }, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-5)).WhenTypeIs<double>());
        r.FinalLoss.Should().BeLessThan(r.InitialLoss);
    }

    [Fact]
    public void Every_accepted_step_decreases_the_loss()
    {
        using var scope = NewDisposeScope();
        var p = new TorchSharp.Modules.Parameter(tensor(new[] { 3.0, -2.0, 0.5 }, dtype: ScalarType.Float64));
        var losses = new List<double>();
        new Lbfgs([p]).Minimize(() => (p.square() * tensor(new[] { 1.0, 10.0, 100.0 }, dtype: ScalarType.Float64)).sum() + p.prod().sin(),
                                 50, (_, f) => losses.Add(f));
        losses.Should().BeInDescendingOrder();
    }
}
