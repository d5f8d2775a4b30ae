using Pinn.Autodiff;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.Symbolic;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Training;

public class ArchitectureTests
{
    static readonly Axis[] Axes = [new("x", -1, 1), new("t", 0, 1)];

    [Theory]
    [InlineData("mlp", 0, false)]
    [InlineData("modified_mlp", 0, false)]
    [InlineData("modified_mlp", 8, true)]
    public void Periodic_embedding_makes_value_and_slope_agree_at_both_ends(string type, int fourier, bool rwf)
    {
        using var scope = NewDisposeScope();
        var options = new ModelOptions
        {
            Type = type, Layers = [16, 16], Periodic = new Dictionary<string, PeriodicAxisOptions> { ["x"] = new(2.0, 5) },
            FourierFeatures = fourier, WeightFactorization = rwf ? (1.0, 0.1) : null,
        };
        using var net = new NeuralField(options, Axes, 1, seed: 1);
        var ts = new[] { 0.0, 0.37, 1.0 };
        var pts = new double[6, 2];
        for (int i = 0; i < 3; i++) { pts[i, 0] = -1; pts[i, 1] = ts[i]; pts[i + 3, 0] = 1; pts[i + 3, 1] = ts[i]; }
        var p = tensor(pts, dtype: ScalarType.Float64).requires_grad_(true);
        var provider = new AutogradFieldProvider(p, net.Forward(p), ["x", "t"], ["u"], _ => throw new InvalidOperationException());
        var u = provider.Field(Sym.Field("u")).data<double>().ToArray();
        var ux = provider.Field(new FieldDerivative("u", ["x"])).data<double>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            // cos/sin of kω·(±1) with ω = π: equal up to rounding of π·k.
            u[i].Should().BeApproximately(u[i + 3], 1e-12);
            ux[i].Should().BeApproximately(ux[i + 3], 1e-11);
        }
        Math.Abs(ux[1]).Should().BeGreaterThan(1e-6, "the slope itself is not trivially zero");
    }

    [Fact]
    public void Modified_mlp_needs_equal_widths()
    {
        var act = () => new NeuralField(new ModelOptions { Type = "modified_mlp", Layers = [16, 8] }, Axes, 1, 0);
        act.Should().Throw<PinnException>().WithMessage("*equal hidden widths*");
    }

    [Fact]
    public void Weight_factorisation_starts_from_the_same_function_as_glorot()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        var layer = new FactorizedLinear(3, 4, 1.0, 0.1, g);
        var x = randn(5, 3, dtype: ScalarType.Float64, generator: g);
        var ps = layer.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var w = ps["scale"].exp().unsqueeze(1) * ps["direction"];
        (layer.forward(x) - x.mm(w.t())).abs().max().item<double>().Should().BeLessThan(1e-14);
        ps.Should().ContainKeys("scale", "direction", "bias");
    }
}
