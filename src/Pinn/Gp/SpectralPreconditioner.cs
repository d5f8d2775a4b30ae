using TorchSharp;
using Pinn.Symbolic;
using Pinn.Training.Optimizers;
using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>
/// Preconditioner for <see cref="WhitenedGridSystem"/>: the exact diagonal of the Gauss–Newton matrix in the prior's
/// Kronecker eigenbasis. With K_j = Q_j Λ_j Q_jᵀ and T = ⊗_j Q_j Λ_j^{1/2}, the coordinates W with U = T W are whitened too
/// (TᵀK⁻¹T = I) and related to V (U = L V) by the orthogonal O = L⁻¹T = ⊗_j L_j⁻¹Q_jΛ_j^{1/2}; in W the matrix is
/// A_W = I + μI + Σ_pieces w_p (J_p T)ᵀ(J_p T). On a uniform grid the kernel and its derivative matrices are Toeplitz and
/// nearly share eigenvectors, so T turns every derivative operator D_α into an almost diagonal E'_α = D_α T (the
/// Laplacian's symbol ω² times λ^{1/2}): A_W is diagonally dominant, and its diagonal is computable exactly, because
/// row i of J_p T is Σ_α c_α(i) ⊗_j E'_{αj}[i_j, ·]:
/// <c>diag(A_W) = 1 + μ + Σ_p w_p Σ_{α,β} (⊗_j (E'_{αj} ∘ E'_{βj}))ᵀ (s_p ∘ c_α ∘ c_β)</c>
/// with s_p the indicator of the piece's rows — one Kronecker product with Hadamard-squared factors per pair of leaves,
/// O(N Σ n_j), exact for any row selection and any pointwise coefficients (periodic pieces, rows r[p] − r[q], drop
/// their cross term: an approximation, which a preconditioner may be). M⁻¹ = O diag(A_W)⁻¹ Oᵀ, applied by mode products.
/// Measured against the whitened system alone (no preconditioner), see DESIGN.md "Grid-value solve" and the tests.
/// </summary>
public sealed class SpectralPreconditioner : IPreconditioner
{
    readonly long[] _shape;
    readonly Tensor[] _rotation; // O_j = L_j⁻¹ Q_j Λ_j^{1/2}
    readonly Tensor[] _diagonal; // per field, over the modes (n_1 × … × n_d)

    public SpectralPreconditioner(GridLinearisation lin, double damping)
    {
        var owner = lin.Owner;
        var step = owner.Step;
        var gp = owner.Gp;
        int d = gp.Axes.Count;
        _shape = gp.Axes.Select(a => (long)a.Count).ToArray();
        // Per axis, the highest even derivative order any leaf takes there (Poisson, Allen–Cahn: 2), or 0.
        var leaves = lin.Pieces.SelectMany(p => p.Partials.Select(q => q.Leaf)).Distinct().ToList();
        var roots = new Tensor[d];
        _rotation = new Tensor[d];
        for (int j = 0; j < d; j++)
        {
            int order = leaves.Select(l => owner.Order(l, j)).Where(o => o > 0 && o % 2 == 0).DefaultIfEmpty(0).Max();
            roots[j] = Basis(step, j, order);
            _rotation[j] = linalg.solve_triangular(step.Lower[j], roots[j], upper: false);
        }
        var factors = new Dictionary<(int Axis, int Order), Tensor>();
        Tensor Factor(FieldDerivative leaf, int j)
        {
            int order = owner.Order(leaf, j);
            if (!factors.TryGetValue((j, order), out var e))
                factors[(j, order)] = e = order == 0 ? roots[j] : step.DerivativeOperator(j, order).matmul(roots[j]);
            return e;
        }
        _diagonal = Enumerable.Range(0, gp.OutputDim).Select(_ => full(_shape, 1.0 + damping, dtype: gp.DType, device: gp.Device)).ToArray();
        foreach (var lp in lin.Pieces)
        {
            var rows = zeros(gp.NodeCount, dtype: gp.DType, device: gp.Device).index_fill_(0, lp.Piece.Plus, 1.0);
            if (lp.Piece.Minus is { } minus) rows.index_fill_(0, minus, 1.0);
            var partials = lp.Partials;
            for (int a = 0; a < partials.Count; a++)
                for (int b = a; b < partials.Count; b++)
                {
                    var (la, ca) = partials[a];
                    var (lb, cb) = partials[b];
                    int f = owner.FieldIndex(la);
                    if (owner.FieldIndex(lb) != f) continue; // cross-field blocks are off the diagonal
                    var weights = (rows * ca * cb).reshape(_shape);
                    for (int j = 0; j < d; j++) weights = Kronecker.ModeProduct(weights, (Factor(la, j) * Factor(lb, j)).T, j);
                    _diagonal[f].add_(weights, alpha: (a == b ? 1 : 2) * lp.Scale * lp.Scale);
                }
        }
    }

    /// <summary>
    /// T_j with T_jᵀK_j⁻¹T_j = I. For an even derivative order a on the axis: the generalised eigenvectors of the pencil
    /// (K_j^(a), K_j), T_j = L_j P_j with P_j Σ_j P_jᵀ = L_j⁻¹K_j^(a)L_j⁻ᵀ, so that D_j^(a) T_j = T_j Σ_j exactly and a Kronecker
    /// sum such as the Laplacian collapses: (D_x ⊕ D_y)(T_x ⊗ T_y) = (T_x ⊗ T_y)(Σ_x ⊕ Σ_y). Without one (order 0): K_j's own
    /// eigenvectors, T_j = Q_j Λ_j^{1/2}. Measured: the eigenvectors of K_j alone left the 2-D cross terms D_x ⊗ D_yᵀ far from
    /// diagonal (poisson2d_smooth 40²: 1439–3000 CG iterations); the pencil's basis makes them diagonal.
    /// </summary>
    static Tensor Basis(GridStep step, int axis, int order)
    {
        var l = step.Lower[axis];
        if (order == 0) return KernelBasis(step, axis);
        var half = linalg.solve_triangular(l, step.KernelMatrix(axis, order).detach(), upper: false);  // L⁻¹K^(a)
        var s = linalg.solve_triangular(l, half.T, upper: false);                                       // L⁻¹K^(a)L⁻ᵀ (K^(a) symmetric)
        var (sigma, p) = linalg.eigh(0.5 * (s + s.T));
        // Where K_j holds little more than its jitter, K^(a) ≈ 0 too: those σ form one degenerate cluster, and eigh returns an
        // arbitrary basis of it — one in which the Euclidean Gram T_jᵀT_j (the row selections, the boundary terms) is far
        // from diagonal. Within the cluster, rotate to the eigenvectors of that Gram, P_Cᵀ(L_jᵀL_j)P_C.
        var abs = sigma.abs();
        var cluster = nonzero(abs <= ClusterTolerance * abs.max()).squeeze(1);
        if (cluster.shape[0] > 1)
        {
            var pc = p.index_select(1, cluster);
            var lp = l.T.matmul(pc);
            var (_, r) = linalg.eigh(lp.T.matmul(lp));
            p = p.index_copy(1, cluster, pc.matmul(r));
        }
        var t = l.matmul(p);
        // The pencil's basis is only worth it where it is accurate (D T = T Σ; it is not where K^(a) is resolved below
        // rounding: poisson1d_multiscale, 300 nodes, F = 20 far under Nyquist: column defects up to 6.5e5) and where the
        // Euclidean Gram TᵀT, which the row selections and boundary rows see, stays near diagonal (poisson2d_smooth 40², F = 6.5:
        // 0.32 off the diagonal, CG then stalls; 0.4 % where it converges). Otherwise K_j's eigenvectors.
        var dt = step.DerivativeOperator(axis, order).matmul(t);
        double defect = ((dt - t * sigma.unsqueeze(0)).norm(dim: 0) / dt.norm(dim: 0).clamp_min(double.Epsilon)).max().ToDouble();
        var gram = t.T.matmul(t);
        var gramDiagonal = gram.diagonal();
        double offDiagonal = ((gram - diag(gramDiagonal)).abs() / (gramDiagonal.unsqueeze(0) * gramDiagonal.unsqueeze(1)).sqrt()).max().ToDouble();
        return defect <= MaxDefect && offDiagonal <= MaxGramCoupling ? t : KernelBasis(step, axis);
    }

    static Tensor KernelBasis(GridStep step, int axis)
    {
        var (lambda, q) = linalg.eigh(step.Covariance[axis]);
        return q * lambda.clamp_min(0).sqrt().unsqueeze(0);
    }

    /// <summary>Largest relative column defect ‖D T e_m − σ_m T e_m‖/‖D T e_m‖ at which the pencil basis is used.</summary>
    const double MaxDefect = 1e-6;
    /// <summary>Largest normalised coupling |G_mk|/√(G_mm G_kk) of the Gram G = TᵀT at which the pencil basis is used.</summary>
    const double MaxGramCoupling = 0.05;

    /// <summary>|σ| ≤ this · max|σ|: the pencil's near-null cluster (the modes beyond the kernel's spectrum).</summary>
    const double ClusterTolerance = 1e-4;

    /// <summary>O_j = L_j⁻¹T_j (orthogonal): V = (⊗O_j) W.</summary>
    public IReadOnlyList<Tensor> Rotation => _rotation;

    /// <summary>diag(A_W) of field <paramref name="field"/>, over the modes.</summary>
    public Tensor Diagonal(int field) => _diagonal[field];

    public Tensor Apply(Tensor r)
    {
        long n = _diagonal[0].numel();
        return cat(_diagonal.Select((diag, f) =>
        {
            var y = r.narrow(0, f * n, n).reshape(_shape);
            for (int j = 0; j < _shape.Length; j++) y = Kronecker.ModeProduct(y, _rotation[j].T, j);
            y = y / diag;
            for (int j = 0; j < _shape.Length; j++) y = Kronecker.ModeProduct(y, _rotation[j], j);
            return y.reshape(-1);
        }).ToList(), 0);
    }
}
