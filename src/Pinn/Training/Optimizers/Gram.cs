using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>
/// JᵀJ of a tall N × P Jacobian from its upper block triangle: the P columns in <see cref="Blocks"/> slabs, and for each slab
/// one GEMM J_aᵀ [J_a … J_last] (its row of the upper triangle), mirrored below the diagonal. (1 + 1/blocks)·NP² flops instead
/// of the full GEMM's 2NP², in <see cref="Blocks"/> GEMMs of N-long inner dimension; libtorch has no syrk. Exactly symmetric.
/// Measured in make bench ARGS="--only lm" (rows "JᵀJ, … slabs").
/// </summary>
public static class Gram
{
    /// <summary>Column slabs (see the bench's slab rows for the measured choice).</summary>
    public const int Blocks = 4;

    /// <summary>JᵀJ (P × P), a new tensor in the caller's dispose scope.</summary>
    public static Tensor Of(Tensor j, int blocks = Blocks)
    {
        long p = j.shape[1], width = (p + blocks - 1) / blocks;
        var a = empty(p, p, dtype: j.dtype, device: j.device);
        using var scope = NewDisposeScope();
        for (long r0 = 0; r0 < p; r0 += width)
        {
            long wr = Math.Min(width, p - r0);
            var row = j.narrow(1, r0, wr).t().matmul(j.narrow(1, r0, p - r0)); // wr × (p − r0): J_aᵀJ_b for b ≥ a
            a.narrow(0, r0, wr).narrow(1, r0, p - r0).copy_(row);
            if (r0 + wr < p) a.narrow(0, r0 + wr, p - r0 - wr).narrow(1, r0, wr).copy_(row.narrow(1, wr, p - r0 - wr).t());
        }
        return a;
    }
}
