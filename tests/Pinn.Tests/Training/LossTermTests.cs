using Pinn.Geometry;
using Pinn.Models;
using Pinn.Symbolic;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Tests.Training;

public class LossTermTests
{
    /// <summary>A fixed function of the points posing as a model, so loss values are known exactly.</summary>
    sealed class FunctionModel(Func<Tensor, Tensor> f) : IFieldModel
    {
        public int InputDim => 2;
        public int OutputDim => 1;
        public Tensor Forward(Tensor points) => f(points).unsqueeze(1);
        public IReadOnlyList<TorchParameter> TrainableParameters => [];
        public string Describe() => "function";
        public void Dispose() { }
    }

    static readonly Box Domain = new SpaceTime(new Interval("x", 0, 2 * Math.PI), new Axis("t", 0, 1));

    static double PeriodicLoss(Func<Tensor, Tensor> f, params Expr[] matched)
    {
        using var scope = NewDisposeScope();
        using var set = new PeriodicPointSet(Domain, "x", 64, new UniformSampler(3));
        set.Resample(ScalarType.Float64, CPU);
        var ctx = new StepContext(new FunctionModel(f), ["x", "t"], ["u"], _ => throw new InvalidOperationException());
        return new PeriodicTerm("periodic", 1, matched, set).Loss(ctx).item<double>();
    }

    [Fact]
    public void Periodic_points_differ_only_in_the_periodic_coordinate()
    {
        using var set = new PeriodicPointSet(Domain, "x", 16, new UniformSampler(1));
        set.Resample(ScalarType.Float64, CPU);
        var lo = set.Points.detach().data<double>().ToArray();
        var hi = set.Partner.detach().data<double>().ToArray();
        for (int i = 0; i < 16; i++)
        {
            lo[2 * i].Should().Be(0);
            hi[2 * i].Should().Be(2 * Math.PI);
            hi[2 * i + 1].Should().Be(lo[2 * i + 1]);
        }
    }

    [Fact]
    public void Periodic_term_vanishes_for_a_periodic_field_and_measures_the_jump_otherwise()
    {
        var u = Sym.Field("u");
        Func<Tensor, Tensor> periodic = p => p[TensorIndex.Colon, 0].sin() * p[TensorIndex.Colon, 1].exp();
        PeriodicLoss(periodic, u, Sym.Dx(u)).Should().BeLessThan(1e-28);
        // u = x: the jump is 2π at every point, so the mean square is 4π² exactly.
        PeriodicLoss(p => p[TensorIndex.Colon, 0].clone(), u).Should().BeApproximately(4 * Math.PI * Math.PI, 1e-12);
    }

    [Fact]
    public void Residual_term_is_the_mean_square_of_the_residual()
    {
        using var scope = NewDisposeScope();
        using var set = new PointSet(Domain, Region.Interior, 100, new UniformSampler(5));
        set.Resample(ScalarType.Float64, CPU);
        var ctx = new StepContext(new FunctionModel(p => p[TensorIndex.Colon, 0].square()), ["x", "t"], ["u"], _ => throw new InvalidOperationException());
        var u = Sym.Field("u");
        // u = x² ⇒ u_xx − 2 = 0 exactly, and u_x − 2x = 0; u_t = 0 so the residual u_t + 1 has mean square 1.
        new ResidualTerm("a", "pde", 1, Sym.Dxx(u) - 2, set).Loss(ctx).item<double>().Should().Be(0);
        new ResidualTerm("b", "pde", 1, Sym.Dx(u) - 2 * Sym.Coord("x"), set).Loss(ctx).item<double>().Should().BeLessThan(1e-28);
        new ResidualTerm("c", "pde", 1, Sym.Dt(u) + 1, set).Loss(ctx).item<double>().Should().Be(1);
    }

    [Fact]
    public void Boundary_sampling_splits_points_between_the_sides()
    {
        var rect = new Rectangle(new Axis("x", 0, 1), new Axis("y", -1, 1));
        var pts = rect.Sample(Region.Boundary, 10, new UniformSampler(2));
        pts.GetLength(0).Should().Be(10);
        int onSides = 0;
        for (int i = 0; i < 10; i++)
        {
            double x = pts[i, 0], y = pts[i, 1];
            bool side = x == 0 || x == 1 || y == -1 || y == 1;
            side.Should().BeTrue();
            if (x == 0) onSides++;
        }
        onSides.Should().BeInRange(2, 3, "10 points over 4 sides: 3, 3, 2, 2");
    }
}
