using Pinn.Symbolic;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>
/// The per-step factorisation of a <see cref="GridGpField"/>: each axis's kernel matrix K_j (with
/// jitter), its Cholesky factor L_j, and the derivative operators D_j^(a) = K_j^(a) K_j⁻¹ built on
/// demand. Everything lives in the caller's dispose scope and depends on the kernel
/// hyper-parameters, so gradients reach them through every use.
/// </summary>
public sealed class GridStep
{
    readonly GridGpField _gp;
    readonly Tensor[] _lower, _covariance;
    readonly Dictionary<(int Axis, int Order), Tensor> _operators = [];
    readonly Dictionary<FieldDerivative, Tensor> _fields = [];

    internal GridStep(GridGpField gp)
    {
        _gp = gp;
        _lower = new Tensor[gp.Axes.Count];
        _covariance = new Tensor[gp.Axes.Count];
        for (int j = 0; j < gp.Axes.Count; j++)
        {
            var k = KernelMatrix(j, 0);
            // Jitter scaled to the matrix (PAPERS.md §3: 1e-6), so it means the same for any kernel amplitude.
            var jitter = gp.Options.Jitter * k.diagonal().mean();
            var kj = k + jitter * eye(gp.Axes[j].Count, dtype: k.dtype, device: k.device);
            var (l, info) = linalg.cholesky_ex(kj);
            if (info.max().ToInt64() != 0)
                throw new PinnException($"GP: the kernel matrix of axis {gp.Axes[j].Axis.Name} is not positive definite even with jitter " +
                                        $"{gp.Options.Jitter:G3}; raise model.jitter or lower model.max_frequency");
            _lower[j] = l;
            _covariance[j] = kj;
        }
    }

    public IReadOnlyList<Tensor> Lower => _lower;
    /// <summary>K_j with its jitter (= L_j L_jᵀ).</summary>
    public IReadOnlyList<Tensor> Covariance => _covariance;

    /// <summary>K_j^(a)[i, k] = ∂^a/∂x^a k_j(x − x') at (x_i, x_k): the kernel at the lags, gathered (Toeplitz).</summary>
    public Tensor KernelMatrix(int axis, int order)
    {
        var a = _gp.Axes[axis];
        var atLags = _gp.Kernels[axis].Evaluate(a.Lags(_gp.DType, _gp.Device), order);
        return atLags.take(a.LagIndex);
    }

    /// <summary>D_j^(a) = K_j^(a) K_j⁻¹ (= (K_j⁻¹ K_j^(a)ᵀ)ᵀ by symmetry of K_j), cached per step.</summary>
    public Tensor DerivativeOperator(int axis, int order)
    {
        if (_operators.TryGetValue((axis, order), out var d)) return d;
        d = cholesky_solve(KernelMatrix(axis, order).T, _lower[axis], upper: false).T;
        _operators[(axis, order)] = d;
        return d;
    }

    /// <summary>∂^α u on the grid (n_1 × … × n_d): one operator per differentiated axis.</summary>
    public Tensor Field(FieldDerivative derivative, int fieldIndex)
    {
        if (_fields.TryGetValue(derivative, out var cached)) return cached;
        Tensor u = _gp.Values(fieldIndex);
        var names = _gp.Axes.Select(a => a.Axis.Name).ToList();
        foreach (var group in derivative.Wrt.GroupBy(w => w))
        {
            int j = names.IndexOf(group.Key);
            if (j < 0) throw new PinnException($"GP: {derivative} differentiates by '{group.Key}', which is not a grid axis");
            u = ApplyDerivative(u, j, group.Count());
        }
        _fields[derivative] = u;
        return u;
    }

    /// <summary>
    /// U ×_j D_j^(a). Forming D_j = K_j^(a) K_j⁻¹ costs 2n_j³ (plus as much again in the backward pass), applying it
    /// 2n_j·N; applying K_j^(a)(K_j⁻¹ U) instead costs about 4n_j·N with no n_j³ term. So a thin rest (N/n_j &lt; n_j: every
    /// 1-D grid) takes the second route unless D_j is already built; a 1-D 400-node Adam step went from 40 ms to 34 ms. The
    /// two routes round differently: poisson1d_sin20, 200 steps, rel. L2 1.0456e-3 → 1.0451e-3 (a 2-D square grid keeps D).
    /// </summary>
    Tensor ApplyDerivative(Tensor u, int j, int order)
    {
        long n = _gp.Axes[j].Count, rest = u.numel() / n;
        if (rest >= n || _operators.ContainsKey((j, order))) return Kronecker.ModeProduct(u, DerivativeOperator(j, order), j);
        return Kronecker.ModeProduct(Kronecker.ModeCholeskySolve(u, _lower[j], j), KernelMatrix(j, order), j);
    }

    /// <summary>−log N(vec U | 0, ⊗K_j) up to the constant: ½ vec(U)ᵀ(⊗K_j)⁻¹vec(U) + ½ Σ_j (N/n_j) log|K_j|.</summary>
    public Tensor NegativeLogPrior(int fieldIndex)
    {
        Tensor z = _gp.Values(fieldIndex);
        for (int j = 0; j < _lower.Length; j++) z = Kronecker.ModeTriangularSolve(z, _lower[j], j);
        return 0.5 * z.square().sum() + 0.5 * Kronecker.LogDet(_lower);
    }

    /// <summary>
    /// Temporaries of the prediction are kept below this many numbers (16 MB in float64): glibc serves larger blocks from
    /// fresh mmap'd pages (its mmap threshold is at most 32 MB, <see cref="Training.NativeRuntime"/>), so each one would cost
    /// a page fault per 4 KiB. With 8M numbers (64 MB) the 2001-point evaluation of a 400-node 1-D GP faulted 1.2M times.
    /// </summary>
    const long ChunkNumbers = 2_000_000;

    /// <summary>k(v_i − g_k) for every value v_i and grid node g_k, in row chunks that bound the v × n × Q temporary.</summary>
    static Tensor EvaluateInChunks(SpectralMixtureKernel kernel, Tensor values, Tensor grid)
    {
        long chunk = Math.Max(16, ChunkNumbers / (grid.shape[0] * kernel.Frequency.shape[0]));
        var parts = new List<Tensor>();
        for (long start = 0; start < values.shape[0]; start += chunk)
        {
            using var scope = NewDisposeScope();
            var v = values[TensorIndex.Slice(start, Math.Min(start + chunk, values.shape[0]))];
            parts.Add(kernel.Evaluate(v.unsqueeze(1) - grid.unsqueeze(0)).MoveToOuterDisposeScope());
        }
        return cat(parts, 0);
    }

    /// <summary>The conditional mean at arbitrary points (rows of <paramref name="points"/>, columns in axis order).</summary>
    public Tensor Predict(Tensor points)
    {
        int d = _gp.Axes.Count;
        if (points.dim() != 2 || points.shape[1] != d)
            throw new PinnException($"GP: points must be N×{d}, got [{string.Join(", ", points.shape)}]");
        var x = points.to(_gp.DType, _gp.Device);
        // A = U ×_j K_j⁻¹ once per field; the cross-kernel then costs rows × n_j × Q per axis, so the rows
        // go in chunks that keep that temporary near ChunkNumbers (a 400² grid at 65 536 points would
        // otherwise need ~25 GB).
        var alphas = Enumerable.Range(0, _gp.OutputDim).Select(f =>
        {
            Tensor a = _gp.Values(f);
            for (int j = 0; j < d; j++) a = Kronecker.ModeCholeskySolve(a, _lower[j], j);
            return a;
        }).ToList();
        // Evaluation points usually share coordinates (a tensor grid): evaluate each axis's cross-kernel
        // only at its distinct values (u_j × n_j × Q work instead of rows × n_j × Q), then gather rows.
        var distinct = new (Tensor Kernel, Tensor Inverse)[d];
        for (int j = 0; j < d; j++)
        {
            var (values, inverse, _) = unique(x[TensorIndex.Colon, j], sorted: true, return_inverse: true);
            var grid = tensor(_gp.Axes[j].Values, dtype: _gp.DType, device: _gp.Device);
            distinct[j] = (EvaluateInChunks(_gp.Kernels[j], values, grid), inverse!);
        }
        long chunk = Math.Max(64, ChunkNumbers / _gp.Axes.Max(a => (long)a.Count));
        var rows = new List<Tensor>();
        for (long start = 0; start < x.shape[0]; start += chunk)
        {
            using var chunkScope = NewDisposeScope(); // the chunk's temporaries go when it is done
            var span = TensorIndex.Slice(start, Math.Min(start + chunk, x.shape[0]));
            long m = Math.Min(start + chunk, x.shape[0]) - start;
            var crosses = distinct.Select(t => t.Kernel.index_select(0, t.Inverse[span])).ToList(); // m × n_j
            var columns = alphas.Select(alpha =>
            {
                // u(x*) = Σ_i Π_j k_j(x*_j − x_{j,i_j}) A[i], contracted one axis at a time.
                Tensor? r = null;
                for (int j = 0; j < d; j++)
                {
                    long nj = _gp.Axes[j].Count;
                    r = r is null
                        ? crosses[j].matmul(alpha.reshape(nj, -1))                          // m × (n_2 ⋯ n_d)
                        : bmm(crosses[j].unsqueeze(1), r.reshape(m, nj, -1)).squeeze(1);   // m × (n_{j+1} ⋯ n_d)
                }
                return r!.reshape(m);
            }).ToList();
            rows.Add(stack(columns, 1).MoveToOuterDisposeScope());
        }
        return cat(rows, 0).to(points.dtype);
    }
}
