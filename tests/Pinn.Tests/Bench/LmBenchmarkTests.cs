using Pinn.Bench;
using Pinn.Problems;
using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Bench;

/// <summary>
/// The lm suite times the residual objective LmPhase minimises: it must be the step's own loss, take the route the suite
/// reports per engine, and its helpers (P of a net, the symmetric JᵀJ) must be what the findings say they are.
/// </summary>
public class LmBenchmarkTests
{
    static FixedBatchPinnStep SmallStep(string engine) =>
        new(new Burgers1D(), [8, 8], ScalarType.Float64, interior: 64, initial: 16, boundary: 16, derivatives: engine);

    [Fact]
    public void Residuals_are_the_steps_loss_and_their_jacobian_gives_its_gradient()
    {
        using var step = SmallStep("jet");
        var residuals = step.Residuals();
        residuals.Count.Should().Be(step.Model.ParameterCount);
        using var scope = NewDisposeScope();
        var x = residuals.Flatten();
        var (r, j) = residuals.Evaluate(x, jacobian: true);
        residuals.FastJacobians.Should().Be(1, residuals.FallbackReason);
        r.shape[0].Should().Be(64 + 16 + 16);
        // ‖r̃‖² sums the same squares as Σ λ mean(r²) in another order: equal to rounding (float64, ~100 terms).
        double loss = step.CurrentLoss();
        r.square().sum().ToDouble().Should().BeApproximately(loss, 1e-13 * loss);
        // ∇L = 2Jᵀr̃; the per-sample rows against the autograd gradient of the same loss: rounding of a P-term sum.
        var (_, gradient) = step.Objective().Evaluate(x);
        var fromJ = 2 * j!.t().matmul(r);
        (fromJ - gradient).abs().max().ToDouble().Should().BeLessThan(1e-12 * gradient.abs().max().ToDouble());
    }

    [Fact]
    public void Autograd_takes_the_generic_route_and_agrees_with_the_jet_jacobian()
    {
        using var jet = SmallStep("jet");
        using var autograd = SmallStep("autograd"); // same seed: same parameters and points
        var fast = jet.Residuals();
        var generic = autograd.Residuals();
        using var scope = NewDisposeScope();
        var (rf, jf) = fast.Evaluate(fast.Flatten(), jacobian: true);
        var (rg, jg) = generic.Evaluate(generic.Flatten(), jacobian: true);
        generic.GenericJacobians.Should().Be(1);
        generic.FastJacobians.Should().Be(0);
        // Two derivative engines, the same maths: differences are rounding of float64 jets vs nested autograd.
        (rf - rg).abs().max().ToDouble().Should().BeLessThan(1e-12);
        (jf! - jg!).abs().max().ToDouble().Should().BeLessThan(1e-10 * jf!.abs().max().ToDouble());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)] // 11 columns in blocks of 4, 4, 3: a ragged last block
    [InlineData(11)]
    public void Blocked_gram_is_the_full_product(int blocks)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(seed: 5);
        var j = randn(37, 11, dtype: ScalarType.Float64, generator: generator);
        var full = j.t().matmul(j);
        var blocked = Gram.Of(j, blocks);
        // Each entry is the same 37-term dot product, possibly summed in another order by the GEMM kernel.
        (blocked - full).abs().max().ToDouble().Should().BeLessThan(1e-12 * full.abs().max().ToDouble());
    }

    [Fact]
    public void Parameter_counts_and_floor_are_as_stated()
    {
        LmBenchmark.Parameters([20, 20, 20, 20]).Should().Be(1341);
        LmBenchmark.Parameters([20, 20, 20]).Should().Be(921);
        LmBenchmark.Parameters([35, 35, 35]).Should().Be(2661);
        using var step = SmallStep("jet");
        LmBenchmark.Parameters([8, 8]).Should().Be(step.Model.ParameterCount);
        // N·P² + P³/3 + 2P² at N = 10, P = 3: 90 + 9 + 18.
        LmBenchmark.FloorFlops(10, 3).Should().BeApproximately(117, 1e-12);
    }
}
