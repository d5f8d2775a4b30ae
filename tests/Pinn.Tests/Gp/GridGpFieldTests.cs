using FluentAssertions;
using Pinn.Gp;
using Pinn.Problems;
using Pinn.Symbolic;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Pinn.Tests.Gp;

public class GridGpFieldTests
{
    static GridGpField Field(Problem problem, int n, double f, string kernel = "gm", double jitter = 1e-6) =>
        new(new GpOptions
            {
                Grid = new Dictionary<string, int> { ["*"] = n }, MaxFrequency = new Dictionary<string, double> { ["*"] = f },
                Kernel = kernel, Jitter = jitter,
            },
            problem, ScalarType.Float64, CPU);

    static Problem Poisson2D() => new ProblemCatalog().Create("poisson2d_sin6cos20")!;

    [Theory]
    [InlineData("gm")]
    [InlineData("stm")]
    public void Grid_derivatives_of_a_smooth_function_match_its_exact_derivatives(string kernel)
    {
        // u = sin(x)·cos(2y) on [0, 2π]², 32² nodes, F = 1 cycle per unit (above the function's 0.32):
        // the conditional-mean derivative K'K⁻¹U at the initial (untrained) kernel. The default jitter
        // (1e-6 of the diagonal) smooths it slightly; measured interior errors: u_x ≈ 5e-4, second
        // derivatives ≈ 1e-3–6e-3 for both envelopes. Bounds sit ~3× above; near the ends the mean
        // extrapolates, so the check stays 4 nodes inside.
        using var gp = Field(Poisson2D(), 32, 1, kernel);
        using var scope = NewDisposeScope();
        var x = gp.Coordinates[0].reshape(32, 32);
        var y = gp.Coordinates[1].reshape(32, 32);
        using (no_grad()) gp.Values(0).copy_(x.sin() * (2 * y).cos());
        var step = gp.Factorize();
        var inner = TensorIndex.Slice(4, 28);
        double Err(string[] wrt, Tensor exact) =>
            (step.Field(new FieldDerivative("u", wrt), 0) - exact)[inner, inner].abs().max().ToDouble();
        Err(["x"], x.cos() * (2 * y).cos()).Should().BeLessThan(2e-3);
        Err(["x", "x"], -x.sin() * (2 * y).cos()).Should().BeLessThan(2e-2);
        Err(["x", "y"], -2 * x.cos() * (2 * y).sin()).Should().BeLessThan(5e-3);
        Err(["y", "y"], -4 * x.sin() * (2 * y).cos()).Should().BeLessThan(1e-2);
    }

    [Fact]
    public void Kronecker_operator_and_prior_equal_their_dense_forms()
    {
        // The identities hold for any SPD factors; a large jitter keeps K = K_x ⊗ K_y well conditioned
        // (cond ≈ 1e4) so the dense reference solve itself is accurate to ~1e-12.
        using var gp = Field(Poisson2D(), 12, 0.5, jitter: 1e-2);
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        using (no_grad()) gp.Values(0).copy_(randn(12, 12, dtype: ScalarType.Float64, generator: g));
        var step = gp.Factorize();
        var kx = step.Lower[0].matmul(step.Lower[0].T);
        var ky = step.Lower[1].matmul(step.Lower[1].T);
        var k = kron(kx, ky);
        var u = gp.Values(0).detach().reshape(-1);
        // ∂²/∂x² on the grid = (K_x'' ⊗ K_y) K⁻¹ vec(U), with K_x'' the kernel's second derivative matrix.
        var dense = kron(step.KernelMatrix(0, 2), ky).matmul(linalg.solve(k, u));
        var viaModes = step.Field(new FieldDerivative("u", ["x", "x"]), 0).reshape(-1).detach();
        (viaModes - dense).abs().max().ToDouble().Should().BeLessThan(1e-8 * dense.abs().max().ToDouble());
        // Prior: ½ uᵀK⁻¹u + ½ log|K|.
        double expected = 0.5 * u.dot(linalg.solve(k, u)).ToDouble() + 0.5 * linalg.slogdet(k).Item2.ToDouble();
        step.NegativeLogPrior(0).ToDouble().Should().BeApproximately(expected, 1e-8 * Math.Abs(expected));
    }

    [Fact]
    public void Off_grid_prediction_reproduces_the_nodes_and_interpolates_between_them()
    {
        // A smooth field on 32² nodes (F = 1): the conditional mean returns the node values up to the
        // jitter's smoothing (~1e-4 measured) and interpolates sin(x)cos(2y) at cell centres as accurately.
        using var gp = Field(Poisson2D(), 32, 1);
        using var scope = NewDisposeScope();
        var x = gp.Coordinates[0];
        var y = gp.Coordinates[1];
        using (no_grad()) gp.Values(0).copy_((x.sin() * (2 * y).cos()).reshape(32, 32));
        using var _ = no_grad();
        var atNodes = gp.Forward(stack([x, y], 1)).reshape(-1);
        (atNodes - gp.Values(0).reshape(-1)).abs().max().ToDouble().Should().BeLessThan(2e-3);
        double h = 2 * Math.PI / 31;
        var cx = linspace(h / 2 + 4 * h, 2 * Math.PI - h / 2 - 4 * h, 23, dtype: ScalarType.Float64);
        var grid = meshgrid([cx, cx], indexing: "ij");
        var centres = stack([grid[0].reshape(-1), grid[1].reshape(-1)], 1);
        var exact = centres[TensorIndex.Colon, 0].sin() * (2 * centres[TensorIndex.Colon, 1]).cos();
        (gp.Forward(centres).reshape(-1) - exact).abs().max().ToDouble().Should().BeLessThan(2e-3);
    }

    [Fact]
    public void A_frequency_above_the_grids_Nyquist_limit_is_refused()
    {
        var act = () => Field(Poisson2D(), 50, 10);
        act.Should().Throw<PinnException>().WithMessage("*Nyquist*model.grid.x*");
    }

    [Fact]
    public void Float32_is_refused()
    {
        var act = () => new GridGpField(new GpOptions { Grid = new Dictionary<string, int> { ["*"] = 20 }, MaxFrequency = new Dictionary<string, double> { ["*"] = 1 } },
                                        Poisson2D(), ScalarType.Float32, CPU);
        act.Should().Throw<PinnException>().WithMessage("*float64*");
    }
}
