using FluentAssertions;
using Pinn.Gp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Pinn.Tests.Gp;

public class SpectralMixtureKernelTests
{
    static SpectralMixtureKernel Kernel(string envelope) => new(envelope, components: 5, maxFrequency: 3, ScalarType.Float64, CPU);

    static Tensor AutogradDerivative(SpectralMixtureKernel k, Tensor r, int order)
    {
        var rr = r.detach().requires_grad_(true);
        var g = k.Evaluate(rr, 0);
        for (int i = 0; i < order; i++) g = autograd.grad([g.sum()], [rr], retain_graph: true, create_graph: true)[0];
        return g.detach();
    }

    [Theory]
    [InlineData("gm", 1)]
    [InlineData("gm", 2)]
    [InlineData("stm", 1)]
    [InlineData("stm", 2)]
    public void Closed_form_derivatives_equal_autograd(string envelope, int order)
    {
        using var k = Kernel(envelope);
        // Away from r = 0 (the Matérn envelope's |r| has a kink there that autograd of k itself cannot see).
        var r = linspace(0.05, 1.5, 40, dtype: ScalarType.Float64);
        var closed = k.Evaluate(r, order).detach();
        var auto = AutogradDerivative(k, r, order);
        // Same function, two float64 evaluation orders: agreement to ~1e-12 relative to the scale.
        (closed - auto).abs().max().ToDouble().Should().BeLessThan(1e-10 * Math.Max(1, auto.abs().max().ToDouble()));
        (closed + auto.neg()).abs().max().ToDouble().Should().BeLessThan(1e-10 * Math.Max(1, auto.abs().max().ToDouble()));
        // Also against central differences of the order − 1 closed form (independent of autograd).
        double h = 1e-5;
        var fd = (k.Evaluate(r + h, order - 1) - k.Evaluate(r - h, order - 1)).detach() / (2 * h);
        (closed - fd).abs().max().ToDouble().Should().BeLessThan(1e-5 * Math.Max(1, auto.abs().max().ToDouble()));
    }

    [Fact]
    public void Matern_derivatives_are_right_at_zero_lag()
    {
        using var k = Kernel("stm");
        // k(r) = Σ w (1 + a|r| + a²r²/3) e^{−a|r|} cos(ωr) ⇒ k'(0) = 0, k''(0) = −Σ w (a²/3 + ω²), a = √5ρ.
        var w = k.LogWeight.exp(); var a2 = 5 * (2 * k.LogRho).exp(); var om2 = (2 * Math.PI * k.Frequency).square();
        double expected = -(w * (a2 / 3 + om2)).sum().ToDouble();
        var zero = zeros(1, dtype: ScalarType.Float64);
        k.Evaluate(zero, 1).ToDouble().Should().Be(0);
        k.Evaluate(zero, 2).ToDouble().Should().BeApproximately(expected, 1e-12 * Math.Abs(expected));
    }

    [Fact]
    public void Starts_with_unit_variance_and_frequencies_evenly_on_zero_to_F()
    {
        using var k = Kernel("gm");
        k.Evaluate(zeros(1, dtype: ScalarType.Float64)).ToDouble().Should().BeApproximately(1, 1e-14);
        k.Frequency.data<double>().ToArray().Should().Equal(0, 0.75, 1.5, 2.25, 3);
    }

    [Fact]
    public void Orders_above_what_the_envelope_supports_are_refused()
    {
        using var k = Kernel("stm");
        var act = () => k.Evaluate(zeros(1, dtype: ScalarType.Float64), 3);
        act.Should().Throw<PinnException>().WithMessage("*twice differentiable*");
    }
}
