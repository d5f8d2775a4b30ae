using Pinn.Autodiff;
using Pinn.Symbolic;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Autodiff;

public class AutogradFieldProviderTests
{
    // u(x, y) = sin(2x)·e^y + x³y², v = x·y: smooth, with non-trivial mixed derivatives up to order 3.
    static Tensor Model(Tensor p)
    {
        var x = p[TensorIndex.Colon, 0];
        var y = p[TensorIndex.Colon, 1];
        var u = (2 * x).sin() * y.exp() + x.pow(3) * y.square();
        return stack([u, x * y], 1);
    }

    static readonly (string[] wrt, Func<double, double, double> exact)[] Cases =
    [
        ([], (x, y) => Math.Sin(2 * x) * Math.Exp(y) + x * x * x * y * y),
        (["x"], (x, y) => 2 * Math.Cos(2 * x) * Math.Exp(y) + 3 * x * x * y * y),
        (["y"], (x, y) => Math.Sin(2 * x) * Math.Exp(y) + 2 * x * x * x * y),
        (["x", "x"], (x, y) => -4 * Math.Sin(2 * x) * Math.Exp(y) + 6 * x * y * y),
        (["x", "y"], (x, y) => 2 * Math.Cos(2 * x) * Math.Exp(y) + 6 * x * x * y),
        (["y", "y"], (x, y) => Math.Sin(2 * x) * Math.Exp(y) + 2 * x * x * x),
        (["x", "x", "x"], (x, y) => -8 * Math.Cos(2 * x) * Math.Exp(y) + 6 * y * y),
        (["x", "x", "y"], (x, y) => -4 * Math.Sin(2 * x) * Math.Exp(y) + 12 * x * y),
        (["x", "y", "y"], (x, y) => 2 * Math.Cos(2 * x) * Math.Exp(y) + 6 * x * x),
        (["y", "y", "y"], (x, y) => Math.Sin(2 * x) * Math.Exp(y)),
    ];

    [Fact]
    public void Derivatives_up_to_third_order_match_exact_values_in_float64()
    {
        using var scope = NewDisposeScope();
        var pts = new double[,] { { 0.3, -0.2 }, { -1.1, 0.7 }, { 0.0, 0.0 }, { 2.0, 1.5 } };
        var p = tensor(pts, dtype: ScalarType.Float64).requires_grad_(true);
        var provider = new AutogradFieldProvider(p, Model(p), ["x", "y"], ["u", "v"], _ => throw new InvalidOperationException());
        foreach (var (wrt, exact) in Cases)
        {
            var got = provider.Field(new FieldDerivative("u", wrt)).data<double>().ToArray();
            for (int i = 0; i < pts.GetLength(0); i++)
            {
                double e = exact(pts[i, 0], pts[i, 1]);
                // float64 autograd is exact up to rounding: a few ulps of the largest term (values are O(10)).
                got[i].Should().BeApproximately(e, 1e-12 * Math.Max(1, Math.Abs(e)), $"∂^{string.Concat(wrt)} u at point {i}");
            }
        }
    }

    [Fact]
    public void Derivatives_of_a_field_that_stops_depending_on_the_points_are_zero()
    {
        using var scope = NewDisposeScope();
        var p = tensor(new double[,] { { 0.5, 2.0 } }, dtype: ScalarType.Float64).requires_grad_(true);
        var provider = new AutogradFieldProvider(p, Model(p), ["x", "y"], ["u", "v"], _ => throw new InvalidOperationException());
        // v = x·y: v_xy = 1, v_xx = 0, v_xxy = 0 (the graph ends; no abort, just zeros).
        provider.Field(new FieldDerivative("v", ["x", "y"])).item<double>().Should().Be(1);
        provider.Field(new FieldDerivative("v", ["x", "x"])).item<double>().Should().Be(0);
        provider.Field(new FieldDerivative("v", ["x", "x", "y"])).item<double>().Should().Be(0);
    }

    [Fact]
    public void Residual_evaluates_through_the_symbolic_layer()
    {
        using var scope = NewDisposeScope();
        var p = tensor(new double[,] { { 0.3, -0.2 }, { 1.0, 0.5 } }, dtype: ScalarType.Float64).requires_grad_(true);
        var provider = new AutogradFieldProvider(p, Model(p), ["x", "y"], ["u", "v"], _ => tensor(0.5, dtype: ScalarType.Float64));
        var ev = new TensorEvaluator(provider);
        var u = Sym.Field("u");
        // u_xx + u_yy + nu*u*u_x at the points, against the hand-computed values.
        var r = ev.Evaluate(Sym.Laplacian(u, Sym.Coord("x"), Sym.Coord("y")) + Sym.Param("nu") * u * Sym.Dx(u)).data<double>().ToArray();
        for (int i = 0; i < 2; i++)
        {
            double x = i == 0 ? 0.3 : 1.0, y = i == 0 ? -0.2 : 0.5;
            double uu = Math.Sin(2 * x) * Math.Exp(y) + x * x * x * y * y;
            double ux = 2 * Math.Cos(2 * x) * Math.Exp(y) + 3 * x * x * y * y;
            double lap = -3 * Math.Sin(2 * x) * Math.Exp(y) + 6 * x * y * y + 2 * x * x * x;
            r[i].Should().BeApproximately(lap + 0.5 * uu * ux, 1e-12);
        }
    }
}
