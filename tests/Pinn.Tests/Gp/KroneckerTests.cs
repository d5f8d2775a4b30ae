using FluentAssertions;
using Pinn.Gp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Pinn.Tests.Gp;

/// <summary>The Kronecker identities the GP relies on, checked against the dense N × N matrices on small grids.</summary>
public class KroneckerTests
{
    // Dense and Kronecker paths do the same float64 arithmetic in a different order; on well-conditioned
    // SPD matrices of size ≤ 60 the differences stay at a few hundred ulps, far below 1e-10.
    const double Tol = 1e-10;

    static Tensor Spd(int n, int seed)
    {
        using var g = new Generator((ulong)seed);
        var a = randn(n, n, dtype: ScalarType.Float64, generator: g);
        return a.matmul(a.T) + n * eye(n, dtype: ScalarType.Float64);
    }

    static Tensor Kron(Tensor a, Tensor b) => torch.kron(a, b);

    [Fact]
    public void Mode_products_equal_the_Kronecker_matrix_times_the_vectorised_tensor()
    {
        var a = Spd(4, 1); var b = Spd(5, 2); var c = Spd(3, 3);
        using var g = new Generator(4);
        var u = randn(4, 5, 3, dtype: ScalarType.Float64, generator: g);
        var viaModes = Kronecker.ModeProduct(Kronecker.ModeProduct(Kronecker.ModeProduct(u, a, 0), b, 1), c, 2);
        var dense = Kron(Kron(a, b), c).matmul(u.reshape(-1));
        (viaModes.reshape(-1) - dense).abs().max().ToDouble().Should().BeLessThan(Tol * dense.abs().max().ToDouble());
    }

    [Fact]
    public void Cholesky_mode_solves_equal_the_dense_solve_and_the_log_determinant_matches()
    {
        var a = Spd(6, 5); var b = Spd(7, 6);
        using var g = new Generator(7);
        var u = randn(6, 7, dtype: ScalarType.Float64, generator: g);
        var la = linalg.cholesky(a); var lb = linalg.cholesky(b);
        var solved = Kronecker.ModeCholeskySolve(Kronecker.ModeCholeskySolve(u, la, 0), lb, 1);
        var k = Kron(a, b);
        var dense = linalg.solve(k, u.reshape(-1));
        (solved.reshape(-1) - dense).abs().max().ToDouble().Should().BeLessThan(Tol * dense.abs().max().ToDouble());

        double logdet = Kronecker.LogDet([la, lb]).ToDouble();
        double denseLogdet = linalg.slogdet(k).Item2.ToDouble();
        logdet.Should().BeApproximately(denseLogdet, Tol * Math.Abs(denseLogdet));

        // ½ vᵀK⁻¹v through triangular solves along each mode equals the dense quadratic form.
        var z = Kronecker.ModeTriangularSolve(Kronecker.ModeTriangularSolve(u, la, 0), lb, 1);
        double quad = z.square().sum().ToDouble();
        double denseQuad = u.reshape(-1).dot(dense).ToDouble();
        quad.Should().BeApproximately(denseQuad, Tol * denseQuad);
    }
}
