using Pinn.Symbolic;
using Pinn.Training;
using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>
/// The GP objective in the grid values U, with the kernel and the noise precisions held fixed, as least squares for the
/// shared Gauss–Newton machinery (<see cref="LevenbergMarquardt"/>; PAPERS.md §3, "worth trying beyond the paper").
/// The objective of <see cref="GpLoss"/> is ½ UᵀK⁻¹U + Σ_k λ_k τ_k/2 ‖r_k(U)‖² + (terms free of U: ½ log|K| and
/// −λ_k n_k/2 log τ_k), so with the rows
/// <list type="bullet">
/// <item>prior, per field: z = (⊗_j L_j)⁻¹ vec U, so ‖z‖² = UᵀK⁻¹U (K_j = L_j L_jᵀ);</item>
/// <item>per likelihood or periodic term k: √(λ_k τ_k) · r_k(U) at its nodes;</item>
/// </list>
/// ‖r̃‖² is exactly twice the GP objective minus its U-free terms, and Gauss–Newton on ‖r̃‖² is Gauss–Newton on the
/// GP objective (with <see cref="GpOptions.SolvePrecisionScale"/> s ≠ 1 the rows carry √(s λ_k τ_k): the objective with every
/// precision s times larger). Since r is pointwise in the leaves ∂^α u, J = Σ_α diag(∂r/∂(∂^α u)) · D_α, with the pointwise
/// partials from one autograd pass and D_α = ⊗_j (K_j^(a_j) K_j⁻¹ or I) the grid's derivative operator — never autograd
/// through the operator. <see cref="Evaluate"/> hands out the dense J (for the dense LM; small grids);
/// <see cref="Linearise"/> keeps it factored (pointwise coefficients × Kronecker operators) behind
/// <see cref="IGaussNewtonSystem"/>, for a matrix-free solve.
/// Lives in the dispose scope it was built in (that of <paramref name="step"/>).
/// </summary>
public sealed class GridValueResiduals : IResidualObjective
{
    readonly GridGpField _gp;
    readonly GridStep _step;
    readonly StepContext _ctx;
    readonly List<Block> _blocks = [];

    /// <summary>One expression's rows: r_e[plus] − r_e[minus] (minus: the far face of a periodic pair).</summary>
    internal sealed record Piece(Expr Expr, Tensor Plus, Tensor? Minus);
    /// <summary>A loss term's rows, scaled by √(λ τ).</summary>
    internal sealed record Block(string Name, double Scale, IReadOnlyList<Piece> Pieces);

    /// <param name="step">Factorised without a graph (<c>no_grad</c>): the kernel is fixed.</param>
    public GridValueResiduals(GridGpField gp, GridStep step, StepContext ctx, IReadOnlyList<LossTerm> terms)
    {
        _gp = gp;
        _step = step;
        _ctx = ctx;
        foreach (var term in terms)
        {
            IReadOnlyList<Piece>? pieces = term switch
            {
                GpLikelihoodTerm lt => [new Piece(lt.Residual, lt.Nodes, null)],
                GpPeriodicTerm pt => pt.Matched.Select(e => new Piece(e, pt.Low, pt.High)).ToList(),
                _ => throw new PinnException($"GP: the grid-value solve does not know loss term '{term.Name}' ({term.GetType().Name})"),
            };
            if (pieces is null) continue;
            // As the term enters the loss: Weight · (τ/2 ‖r‖² − n/2 log τ), so the rows carry √(Weight · τ) — times
            // √(model.solve_precision_scale), which is 1 unless the solve is asked to lean towards noise-free collocation.
            double w = term.Weight * gp.Precisions.Precision(term.Name) * gp.Options.SolvePrecisionScale;
            _blocks.Add(new Block(term.Name, Math.Sqrt(w), pieces));
        }
        // Every per-axis operator is built here, in the step's scope: GridStep caches them, and one first made inside an
        // evaluation's scope would be disposed under the cache. The dense N × N operators are not: built on demand
        // (DenseJacobian, small grids only), never kept — a 200² grid would need 13 GB for each.
        using (no_grad())
        {
            var leaves = _blocks.SelectMany(b => b.Pieces).SelectMany(p => p.Expr.Descendants().Prepend(p.Expr))
                             .OfType<FieldDerivative>().Distinct().ToList();
            foreach (var d in leaves)
                for (int j = 0; j < gp.Axes.Count; j++)
                    if (Order(d, j) > 0) step.DerivativeOperator(j, Order(d, j));
        }
    }

    /// <summary>P = (fields) × (nodes).</summary>
    public long Count => _gp.NodeCount * _gp.OutputDim;
    internal GridGpField Gp => _gp;
    internal IReadOnlyList<Block> Blocks => _blocks;

    /// <summary>The model's grid values, flat (field-major, each row-major), as a new tensor.</summary>
    public Tensor Flatten() =>
        cat(Enumerable.Range(0, _gp.OutputDim).Select(f => _gp.Values(f).detach().reshape(-1)).ToList(), 0);

    public void Assign(Tensor x)
    {
        using var _ = no_grad();
        for (int f = 0; f < _gp.OutputDim; f++) _gp.Values(f).copy_(FieldPart(x, f).reshape(_gp.Values(f).shape));
    }

    public (Tensor Residuals, Tensor? Jacobian) Evaluate(Tensor x, bool jacobian)
    {
        using var scope = NewDisposeScope();
        if (!jacobian)
        {
            using var _ = no_grad();
            var leaves = new LeafProvider(this, x.detach(), track: false);
            var rows = Enumerable.Range(0, _gp.OutputDim).Select(f => Prior(FieldPart(x, f))).ToList();
            foreach (var b in _blocks)
                foreach (var p in b.Pieces)
                    rows.Add(b.Scale * Rows(leaves.Value(p.Expr), p));
            return (cat(rows, 0).MoveToOuterDisposeScope(), null);
        }
        var lin = Linearise(x);
        return (lin.Residuals.MoveToOuterDisposeScope(), lin.DenseJacobian().MoveToOuterDisposeScope());
    }

    /// <summary>r̃(x) and J(x) in factored form, in the caller's dispose scope.</summary>
    public GridLinearisation Linearise(Tensor x)
    {
        var leaves = new LeafProvider(this, x.detach(), track: true);
        var pieces = new List<GridLinearisation.LinearPiece>();
        var rows = new List<Tensor>();
        using (no_grad()) rows.AddRange(Enumerable.Range(0, _gp.OutputDim).Select(f => Prior(FieldPart(x, f))));
        foreach (var b in _blocks)
            foreach (var p in b.Pieces)
            {
                var (value, partials) = leaves.Linearize(p.Expr);
                rows.Add(b.Scale * Rows(value, p));
                pieces.Add(new GridLinearisation.LinearPiece(b.Scale, p, partials));
            }
        return new GridLinearisation(this, cat(rows, 0), pieces);
    }

    internal Tensor FieldPart(Tensor x, int f) => x[TensorIndex.Slice(f * _gp.NodeCount, (f + 1) * _gp.NodeCount)];

    internal static Tensor Rows(Tensor atNodes, Piece p) =>
        p.Minus is null ? atNodes.index_select(0, p.Plus) : atNodes.index_select(0, p.Plus) - atNodes.index_select(0, p.Minus);

    internal int Order(FieldDerivative d, int axis) => d.Wrt.Count(w => w == _gp.Axes[axis].Axis.Name);

    internal int FieldIndex(FieldDerivative d) => _ctx.Fields.ToList().IndexOf(d.Field);

    /// <summary>The dense D_α (N × N), a new tensor: small grids only.</summary>
    internal Tensor DenseOperator(FieldDerivative d)
    {
        using var _ = no_grad();
        return _gp.Axes.Select((a, j) =>
        {
            int order = Order(d, j);
            return order == 0 ? eye(a.Count, dtype: _gp.DType, device: _gp.Device) : _step.DerivativeOperator(j, order).detach();
        }).Aggregate(kron);
    }

    /// <summary>The dense (⊗L_j)⁻¹ (N × N), a new tensor: small grids only.</summary>
    internal Tensor DensePrior()
    {
        using var _ = no_grad();
        return _step.Lower.Select(l => linalg.solve_triangular(l, eye(l.shape[0], dtype: l.dtype, device: l.device), upper: false))
                    .Aggregate(kron);
    }

    /// <summary>D_α v for one field's flat values, by mode products (transpose: D_αᵀ v).</summary>
    internal Tensor Derivative(FieldDerivative d, Tensor v, bool transpose = false)
    {
        var grid = v.reshape(_gp.Axes.Select(a => (long)a.Count).ToArray());
        for (int j = 0; j < _gp.Axes.Count; j++)
        {
            int order = Order(d, j);
            if (order == 0) continue;
            var op = _step.DerivativeOperator(j, order);
            grid = Kronecker.ModeProduct(grid, transpose ? op.T : op, j);
        }
        return grid.reshape(-1);
    }

    /// <summary>(⊗L_j) v per field, all fields (transpose: (⊗L_j)ᵀ v): the whitening U = L V of <see cref="WhitenedGridSystem"/>.</summary>
    internal Tensor CholeskyProduct(Tensor x, bool transpose)
    {
        var shape = _gp.Axes.Select(a => (long)a.Count).ToArray();
        return cat(Enumerable.Range(0, _gp.OutputDim).Select(f =>
        {
            var grid = FieldPart(x, f).reshape(shape);
            for (int j = 0; j < _gp.Axes.Count; j++) grid = Kronecker.ModeProduct(grid, transpose ? _step.Lower[j].T : _step.Lower[j], j);
            return grid.reshape(-1);
        }).ToList(), 0);
    }

    public GridStep Step => _step;

    /// <summary>z = (⊗L_j)⁻¹ v for one field (transpose: (⊗L_j)⁻ᵀ v).</summary>
    internal Tensor Prior(Tensor v, bool transpose = false)
    {
        var grid = v.reshape(_gp.Axes.Select(a => (long)a.Count).ToArray());
        for (int j = 0; j < _gp.Axes.Count; j++)
            grid = transpose ? Kronecker.ModeTransposedTriangularSolve(grid, _step.Lower[j], j)
                             : Kronecker.ModeTriangularSolve(grid, _step.Lower[j], j);
        return grid.reshape(-1);
    }

    /// <summary>Serves each ∂^α u as a leaf tensor (its current value), so autograd gives ∂r/∂(∂^α u) pointwise.</summary>
    sealed class LeafProvider(GridValueResiduals owner, Tensor u, bool track) : IFieldProvider
    {
        readonly Dictionary<FieldDerivative, Tensor> _leaves = [];

        public ScalarType DType => owner._gp.DType;
        public Device Device => owner._gp.Device;
        public long Count => owner._gp.NodeCount;
        public Tensor Coordinate(string name) => owner._gp.Coordinates[owner._ctx.Coordinates.ToList().IndexOf(name)];
        public Tensor Parameter(string name) => owner._ctx.Parameter(name).detach();

        public Tensor Field(FieldDerivative d)
        {
            if (_leaves.TryGetValue(d, out var leaf)) return leaf;
            using (no_grad()) leaf = owner.Derivative(d, owner.FieldPart(u, owner.FieldIndex(d)));
            if (track) leaf = leaf.detach().requires_grad_(true);
            _leaves[d] = leaf;
            return leaf;
        }

        public Tensor Value(Expr e) => new TensorEvaluator(this).Evaluate(e);

        /// <summary>The expression's value at every node and its partials ∂r/∂(∂^α u) at every node, per leaf it reads.</summary>
        public (Tensor Value, IReadOnlyList<(FieldDerivative Leaf, Tensor Partial)> Partials) Linearize(Expr e)
        {
            var value = Value(e);
            var read = e.Descendants().Prepend(e).OfType<FieldDerivative>().ToHashSet();
            var used = _leaves.Where(kv => read.Contains(kv.Key)).ToList();
            var partials = new List<(FieldDerivative, Tensor)>();
            if (used.Count > 0 && value.requires_grad)
            {
                // Pointwise in the leaves, so the gradient of the sum is the diagonal of ∂r/∂(∂^α u).
                var grads = autograd.grad([value.sum()], used.Select(kv => kv.Value).ToList(), allow_unused: true);
                for (int i = 0; i < used.Count; i++)
                    if (grads[i] is { IsInvalid: false } g) partials.Add((used[i].Key, g.detach()));
            }
            return (value.detach(), partials);
        }
    }
}

/// <summary>
/// <see cref="GridValueResiduals"/> linearised at one U: r̃ and J = [prior: ⊗L_j⁻¹ per field; per piece:
/// √(λτ) · S (Σ_α diag(c_α) D_α)], with S the piece's row selection (or difference of two, periodic). JᵀJ v costs
/// mode products only (O(N Σ n_j) per leaf), never the N × N operators: the seam for a matrix-free solve.
/// </summary>
public sealed class GridLinearisation : IGaussNewtonSystem
{
    internal sealed record LinearPiece(double Scale, GridValueResiduals.Piece Piece, IReadOnlyList<(FieldDerivative Leaf, Tensor Partial)> Partials);

    readonly GridValueResiduals _owner;
    readonly IReadOnlyList<LinearPiece> _pieces;

    internal GridLinearisation(GridValueResiduals owner, Tensor residuals, IReadOnlyList<LinearPiece> pieces)
    {
        _owner = owner;
        Residuals = residuals;
        _pieces = pieces;
    }

    public long Count => _owner.Count;
    /// <summary>r̃ at the linearisation point (prior rows first, then the terms' rows in term order).</summary>
    public Tensor Residuals { get; }

    long Nodes => _owner.Gp.NodeCount;
    int Fields => _owner.Gp.OutputDim;

    internal IReadOnlyList<LinearPiece> Pieces => _pieces;
    public GridValueResiduals Owner => _owner;

    /// <summary>J v.</summary>
    public Tensor Jv(Tensor v) =>
        cat([.. Enumerable.Range(0, Fields).Select(f => _owner.Prior(_owner.FieldPart(v, f))), LikelihoodJv(v)], 0);

    /// <summary>J_r v: the rows of the likelihood and periodic terms only (no prior rows).</summary>
    public Tensor LikelihoodJv(Tensor v)
    {
        var rows = new List<Tensor>();
        foreach (var lp in _pieces)
        {
            Tensor atNodes = zeros(Nodes, dtype: v.dtype, device: v.device);
            foreach (var (leaf, c) in lp.Partials)
                atNodes = atNodes + c * _owner.Derivative(leaf, _owner.FieldPart(v, _owner.FieldIndex(leaf)));
            rows.Add(lp.Scale * GridValueResiduals.Rows(atNodes, lp.Piece));
        }
        return rows.Count == 0 ? zeros(0, dtype: v.dtype, device: v.device) : cat(rows, 0);
    }

    /// <summary>Jᵀ y for a vector y shaped like <see cref="Residuals"/>.</summary>
    public Tensor JTy(Tensor y)
    {
        long prior = Fields * Nodes;
        var fields = Enumerable.Range(0, Fields).Select(f => _owner.Prior(y.narrow(0, f * Nodes, Nodes), transpose: true)).ToList();
        return cat(fields, 0) + LikelihoodJTy(y.narrow(0, prior, y.shape[0] - prior));
    }

    /// <summary>J_rᵀ y for y shaped like the likelihood rows (<see cref="LikelihoodJv"/>).</summary>
    public Tensor LikelihoodJTy(Tensor y)
    {
        var fields = Enumerable.Range(0, Fields).Select(_ => zeros(Nodes, dtype: y.dtype, device: y.device)).ToList();
        long offset = 0;
        foreach (var lp in _pieces)
        {
            long rows = lp.Piece.Plus.shape[0];
            var part = lp.Scale * y.narrow(0, offset, rows);
            offset += rows;
            // Sᵀ: scatter the rows back onto the nodes (periodic: + on the near face, − on the far one).
            var atNodes = zeros(Nodes, dtype: y.dtype, device: y.device).index_add(0, lp.Piece.Plus, part, 1.0);
            if (lp.Piece.Minus is { } minus) atNodes = atNodes.index_add(0, minus, part, -1.0);
            foreach (var (leaf, c) in lp.Partials)
            {
                int f = _owner.FieldIndex(leaf);
                fields[f] = fields[f] + _owner.Derivative(leaf, c * atNodes, transpose: true);
            }
        }
        return cat(fields, 0);
    }

    /// <summary>J_rᵀJ_r v: <see cref="Apply"/> without the prior block K⁻¹.</summary>
    public Tensor ApplyLikelihood(Tensor v) => LikelihoodJTy(LikelihoodJv(v));

    /// <summary>J_rᵀ r̃_r: <see cref="Gradient"/> without the prior's K⁻¹U.</summary>
    public Tensor LikelihoodGradient()
    {
        long prior = Fields * Nodes;
        return LikelihoodJTy(Residuals.narrow(0, prior, Residuals.shape[0] - prior));
    }

    public Tensor Gradient() => JTy(Residuals);

    public Tensor Apply(Tensor v) => JTy(Jv(v));

    /// <summary>The dense J (rows × P), small grids only: row-scaled copies of the dense N × N operators.</summary>
    public Tensor DenseJacobian()
    {
        long n = Nodes, p = Count;
        var blocks = new List<Tensor>();
        var densePrior = _owner.DensePrior();
        for (int f = 0; f < Fields; f++)
        {
            var prior = zeros(n, p, dtype: Residuals.dtype, device: Residuals.device);
            prior[TensorIndex.Colon, TensorIndex.Slice(f * n, (f + 1) * n)] = densePrior;
            blocks.Add(prior);
        }
        foreach (var lp in _pieces)
        {
            var plus = lp.Piece.Plus;
            var j = zeros(plus.shape[0], p, dtype: Residuals.dtype, device: Residuals.device);
            foreach (var (leaf, c) in lp.Partials)
            {
                var d = _owner.DenseOperator(leaf);
                var block = c.index_select(0, plus).unsqueeze(1) * d.index_select(0, plus);
                if (lp.Piece.Minus is { } minus) block -= c.index_select(0, minus).unsqueeze(1) * d.index_select(0, minus);
                int f = _owner.FieldIndex(leaf);
                j[TensorIndex.Colon, TensorIndex.Slice(f * n, (f + 1) * n)] += block;
            }
            blocks.Add(lp.Scale * j);
        }
        return cat(blocks, 0);
    }
}
