using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Training;

public class CausalWeightingTests
{
    [Fact]
    public void Weights_follow_the_closed_form_and_carry_no_gradient()
    {
        using var scope = NewDisposeScope();
        var l = tensor(new[] { 0.5, 0.2, 0.1, 0.4 }, dtype: ScalarType.Float64).requires_grad_(true);
        var causal = new CausalWeighting(new CausalOptions { Enabled = true, Chunks = 4, Epsilons = [2.0] });
        var loss = causal.Loss([l]);
        // w = exp(−ε [0, 0.5, 0.7, 0.8]); loss = mean(w·L)
        double[] w = [1, Math.Exp(-1.0), Math.Exp(-1.4), Math.Exp(-1.6)];
        double[] lv = [0.5, 0.2, 0.1, 0.4];
        loss.item<double>().Should().BeApproximately(w.Zip(lv, (a, b) => a * b).Sum() / 4, 1e-15);
        causal.MinWeight.Should().BeApproximately(Math.Exp(-1.6), 1e-15);
        loss.backward();
        // Stop-gradient: ∂loss/∂L_i = w_i / M exactly; a gradient through w would add negative terms.
        l.grad!.data<double>().ToArray().Should().Equal(w.Select(x => x / 4).ToArray(), (a, b) => Math.Abs(a - b) < 1e-15);
    }

    [Fact]
    public void Coupled_equations_use_the_elementwise_minimum_weight()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new[] { 1.0, 0.0, 0.0 }, dtype: ScalarType.Float64);
        var b = tensor(new[] { 0.0, 2.0, 0.0 }, dtype: ScalarType.Float64);
        var causal = new CausalWeighting(new CausalOptions { Enabled = true, Chunks = 3, Epsilons = [1.0] });
        causal.Loss([a, b]);
        // weights: a → [1, e^-1, e^-1], b → [1, 1, e^-2]; min → [1, e^-1, e^-2]
        causal.MinWeight.Should().BeApproximately(Math.Exp(-2), 1e-15);
    }

    [Fact]
    public void Epsilon_anneals_exactly_when_min_weight_exceeds_delta()
    {
        using var scope = NewDisposeScope();
        var causal = new CausalWeighting(new CausalOptions { Enabled = true, Chunks = 2, Epsilons = [0.01, 1, 100], Delta = 0.99 });
        // min w = exp(−ε·L_1): with L_1 = 0.5, ε = 0.01 → 0.995 > 0.99: move on.
        causal.Loss([tensor(new[] { 0.5, 0.5 }, dtype: ScalarType.Float64)]);
        causal.AfterStep();
        causal.Epsilon.Should().Be(1);
        // ε = 1: exp(−0.5) = 0.61 < 0.99: stay.
        causal.Loss([tensor(new[] { 0.5, 0.5 }, dtype: ScalarType.Float64)]);
        causal.AfterStep();
        causal.Epsilon.Should().Be(1);
        // L_1 = 0.005: exp(−0.005) = 0.995 > 0.99: move on; at the last ε it stays.
        causal.Loss([tensor(new[] { 0.005, 0.5 }, dtype: ScalarType.Float64)]);
        causal.AfterStep();
        causal.Epsilon.Should().Be(100);
        causal.Loss([tensor(new[] { 0.0, 0.0 }, dtype: ScalarType.Float64)]);
        causal.AfterStep();
        causal.Epsilon.Should().Be(100);
    }

    [Fact]
    public void Chunks_are_equal_count_groups_in_time_order()
    {
        using var scope = NewDisposeScope();
        var t = tensor(new[] { 0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8 }, dtype: ScalarType.Float64);
        var r = t * 10; // residual grows with t
        var chunks = CausalWeighting.ChunkLosses(r, t, 3).data<double>().ToArray();
        // sorted t: .1 .2 | .3 .5 | .7 .8 (| .9 dropped): mean squares of 10t
        chunks.Should().Equal([2.5, 17, 56.5], (a, b) => Math.Abs(a - b) < 1e-12);
    }
}
