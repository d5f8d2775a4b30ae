using Pinn.Symbolic;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>
/// One Gauss–Newton step on the GP objective in the grid values U, with the kernel and the noise
/// precisions held fixed (PAPERS.md §3, "worth trying beyond the paper"): the objective is
/// ½ UᵀK⁻¹U + Σ_k λ_k τ_k/2 ‖r_k(U)‖², so with J_k = ∂r_k/∂U the step solves
/// (K⁻¹ + Σ λ_k τ_k J_kᵀJ_k) ΔU = −(K⁻¹U + Σ λ_k τ_k J_kᵀ r_k). For a linear PDE this is the exact
/// minimiser, which Adam otherwise needs thousands of steps to reach. Dense, so for small grids only.
/// J_k comes from the symbolic residual itself: r is pointwise in the leaves ∂^α u, so
/// J = Σ_α diag(∂r/∂(∂^α u)) · D_α, with the partials from one autograd pass and D_α the grid's
/// derivative operator (a Kronecker product of per-axis K^(a)K⁻¹).
/// </summary>
public static class GaussNewton
{
    public static void Step(GridGpField gp, StepContext ctx, IReadOnlyList<LossTerm> terms)
    {
        using var scope = NewDisposeScope();
        GridStep step;
        using (no_grad()) step = gp.Factorize();
        int fields = gp.OutputDim;
        long n = gp.NodeCount, unknowns = n * fields;
        var u = cat(Enumerable.Range(0, fields).Select(f => gp.Values(f).detach().reshape(-1)).ToList(), 0);
        var leaves = new LeafProvider(gp, step, u, ctx);

        var h = zeros(unknowns, unknowns, dtype: gp.DType, device: gp.Device);
        var g = zeros(unknowns, dtype: gp.DType, device: gp.Device);
        foreach (var term in terms)
        {
            (Tensor r, Tensor j)? lin = term switch
            {
                GpLikelihoodTerm lt => Rows(leaves.Linearize(lt.Residual), lt.Nodes),
                GpPeriodicTerm pt => Periodic(pt, leaves),
                _ => null,
            };
            if (lin is not { } l) continue;
            double w = term.Weight * gp.LogPrecision(term.Name).detach().exp().ToDouble();
            h += w * l.j.T.matmul(l.j);
            g += w * l.j.T.matmul(l.r);
        }
        using (no_grad())
        {
            var kinv = KroneckerInverse(gp, step);
            for (int f = 0; f < fields; f++)
            {
                var block = TensorIndex.Slice(f * n, (f + 1) * n);
                h[block, block] += kinv;
                g[block] += kinv.matmul(u[block]);
            }
            var delta = linalg.solve(h, g);
            if (!double.IsFinite(delta.abs().max().ToDouble())) return; // keep Adam's iterate rather than a broken solve
            var next = u - delta;
            for (int f = 0; f < fields; f++)
                gp.Values(f).copy_(next[TensorIndex.Slice(f * n, (f + 1) * n)].reshape(gp.Values(f).shape));
        }
    }

    static (Tensor r, Tensor j) Rows((Tensor r, Tensor j) full, Tensor nodes) =>
        (full.r.index_select(0, nodes), full.j.index_select(0, nodes));

    static (Tensor r, Tensor j) Periodic(GpPeriodicTerm t, LeafProvider leaves)
    {
        var parts = t.Matched.Select(e =>
        {
            var (r, j) = leaves.Linearize(e);
            return (r.index_select(0, t.Low) - r.index_select(0, t.High), j.index_select(0, t.Low) - j.index_select(0, t.High));
        }).ToList();
        return (cat(parts.Select(p => p.Item1).ToList(), 0), cat(parts.Select(p => p.Item2).ToList(), 0));
    }

    /// <summary>K⁻¹ = ⊗_j K_j⁻¹ as a dense N × N matrix (small grids only).</summary>
    static Tensor KroneckerInverse(GridGpField gp, GridStep step) =>
        step.Lower.Select(l => cholesky_inverse(l)).Aggregate(kron);

    /// <summary>Serves each ∂^α u as a leaf tensor (its current value), so autograd gives ∂r/∂(∂^α u) pointwise.</summary>
    sealed class LeafProvider(GridGpField gp, GridStep step, Tensor u, StepContext ctx) : IFieldProvider
    {
        readonly Dictionary<FieldDerivative, Tensor> _leaves = [];
        readonly Dictionary<FieldDerivative, Tensor> _operators = [];

        public ScalarType DType => gp.DType;
        public Device Device => gp.Device;
        public long Count => gp.NodeCount;
        public Tensor Coordinate(string name) => gp.Coordinates[ctx.Coordinates.ToList().IndexOf(name)];
        public Tensor Parameter(string name) => ctx.Parameter(name).detach();

        public Tensor Field(FieldDerivative d)
        {
            if (_leaves.TryGetValue(d, out var leaf)) return leaf;
            int f = ctx.Fields.ToList().IndexOf(d.Field);
            var op = Operator(d);
            var value = op.matmul(u[TensorIndex.Slice(f * Count, (f + 1) * Count)]);
            leaf = value.detach().requires_grad_(true);
            _leaves[d] = leaf;
            return leaf;
        }

        /// <summary>D_α = ⊗_j (K_j^(a_j) K_j⁻¹ or I), dense.</summary>
        Tensor Operator(FieldDerivative d)
        {
            if (_operators.TryGetValue(d, out var op)) return op;
            using (no_grad())
            {
                op = gp.Axes.Select((a, j) =>
                {
                    int order = d.Wrt.Count(w => w == a.Axis.Name);
                    return order == 0 ? eye(a.Count, dtype: gp.DType, device: gp.Device) : step.DerivativeOperator(j, order).detach();
                }).Aggregate(kron);
            }
            _operators[d] = op;
            return op;
        }

        /// <summary>The expression's value at every node and its Jacobian with respect to all grid values (N × mN).</summary>
        public (Tensor r, Tensor j) Linearize(Expr e)
        {
            var value = new TensorEvaluator(this).Evaluate(e);
            var jac = zeros(Count, Count * gp.OutputDim, dtype: gp.DType, device: gp.Device);
            var used = _leaves.Where(kv => e.Descendants().OfType<FieldDerivative>().Contains(kv.Key)).ToList();
            if (used.Count > 0 && value.requires_grad)
            {
                var grads = autograd.grad([value.sum()], used.Select(kv => kv.Value).ToList(), allow_unused: true);
                for (int i = 0; i < used.Count; i++)
                {
                    if (grads[i] is null || grads[i].IsInvalid) continue;
                    int f = ctx.Fields.ToList().IndexOf(used[i].Key.Field);
                    var cols = TensorIndex.Slice(f * Count, (f + 1) * Count);
                    jac[TensorIndex.Colon, cols] += grads[i].unsqueeze(1) * Operator(used[i].Key);
                }
            }
            return (value.detach(), jac);
        }
    }
}
