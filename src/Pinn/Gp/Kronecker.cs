using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>
/// Kronecker-structured algebra on d-way tensors: with K = K_1 ⊗ … ⊗ K_d and vec in row-major order
/// (last axis fastest), K·vec(U) = vec(U ×_1 K_1 ⋯ ×_d K_d), so products, solves and log-determinants
/// only ever touch the per-axis n_j × n_j factors — the N × N matrix is never formed.
/// </summary>
public static class Kronecker
{
    /// <summary>Mode-j product U ×_j M: contracts axis j of <paramref name="u"/> with the columns of M (m × n_j).</summary>
    public static Tensor ModeProduct(Tensor u, Tensor m, int j) =>
        ApplyAlong(u, j, front => m.matmul(front));

    /// <summary>U ×_j L⁻¹ for a lower-triangular L (a triangular solve along axis j).</summary>
    public static Tensor ModeTriangularSolve(Tensor u, Tensor lower, int j) =>
        ApplyAlong(u, j, front => linalg.solve_triangular(lower, front, upper: false));

    /// <summary>U ×_j L⁻ᵀ for a lower-triangular L (the adjoint of <see cref="ModeTriangularSolve"/>).</summary>
    public static Tensor ModeTransposedTriangularSolve(Tensor u, Tensor lower, int j) =>
        ApplyAlong(u, j, front => linalg.solve_triangular(lower.mT, front, upper: true));

    /// <summary>U ×_j K⁻¹ given the Cholesky factor L of K.</summary>
    public static Tensor ModeCholeskySolve(Tensor u, Tensor lower, int j) =>
        ApplyAlong(u, j, front => cholesky_solve(front, lower, upper: false));

    /// <summary>log|K_1 ⊗ … ⊗ K_d| = Σ_j (N / n_j) log|K_j|, from the Cholesky factors.</summary>
    public static Tensor LogDet(IReadOnlyList<Tensor> lowers)
    {
        long n = lowers.Aggregate(1L, (acc, l) => acc * l.shape[0]);
        Tensor? sum = null;
        foreach (var l in lowers)
        {
            var term = (double)(n / l.shape[0]) * 2 * l.diagonal().log().sum();
            sum = sum is null ? term : sum + term;
        }
        return sum!;
    }

    /// <summary>Moves axis j to the front, flattens the rest into columns, applies f, and moves it back.</summary>
    static Tensor ApplyAlong(Tensor u, int j, Func<Tensor, Tensor> f)
    {
        var moved = j == 0 ? u : u.movedim([j], [0]);
        var shape = moved.shape;
        var front = moved.reshape(shape[0], -1);
        var result = f(front);
        var back = result.reshape([result.shape[0], .. shape.Skip(1)]);
        return j == 0 ? back : back.movedim([0], [j]);
    }
}
