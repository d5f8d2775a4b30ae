using System.Diagnostics;
using Pinn.Geometry;
using Pinn.Problems;
using Pinn.Symbolic;
using Pinn.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>What <see cref="FiniteDifferenceBaseline.Solve"/> found: the error at the grid nodes, or why it does not apply.</summary>
/// <param name="RelativeL2">‖U − u*‖ / ‖u*‖ over the grid nodes (u* the problem's exact solution).</param>
public sealed record FiniteDifferenceResult(double RelativeL2, int NewtonSteps, int KrylovIterations, double Seconds, string? NotApplicable = null);

/// <summary>
/// The classical baseline of the GP's reproduction (issue 15, item 3): a second-order finite-difference solution on the
/// same grid as a GP run. Every derivative the symbolic residuals read is a per-axis FD matrix (central inside, second-order
/// one-sided at the ends) applied as a mode product, so any residual of one field evaluates unchanged; the equations hold
/// at the nodes no condition claims, the conditions at theirs (exactly as the GP's terms are placed, <see cref="GridMasks"/>).
/// Newton on the stacked residuals, each step by BiCGStab, right-preconditioned by the exact inverse of the operator's
/// mean second-order part with Dirichlet rows (fast diagonalisation in the discrete sine basis of each axis: O(N Σ n_j)
/// per application, no N × N matrix). One Newton step solves a linear problem; an operator without a second-derivative
/// part (advection) is reported as not applicable rather than solved badly.
/// </summary>
public static class FiniteDifferenceBaseline
{
    const int MaxNewton = 20;
    const double NewtonTolerance = 1e-12;

    public static FiniteDifferenceResult Solve(Problem problem, IReadOnlyList<int> counts)
    {
        var clock = Stopwatch.StartNew();
        if (problem.Fields.Count != 1) return NotApplicable(clock, "one field only");
        if (problem.ExactSolution.Count == 0) return NotApplicable(clock, "no exact solution to compare with");
        var axes = problem.Domain.Axes;
        if (counts.Count != axes.Count) throw new PinnException($"FD baseline: {counts.Count} grid counts for {axes.Count} axes");
        using var scope = NewDisposeScope();
        var grid = new Grid(problem, counts);
        var rows = Rows(problem, grid);
        if (rows is null) return NotApplicable(clock, "a condition that is not pointwise (periodic, integral)");

        var u = zeros(grid.Shape, dtype: ScalarType.Float64);
        var (r, lin) = grid.Linearize(u, rows);
        double r0 = r.norm().ToDouble();
        var pre = Preconditioner.From(grid, lin, rows);
        if (pre is null) return NotApplicable(clock, "no second-derivative part to precondition with (e.g. advection)");
        int newton = 0, krylov = 0;
        double norm = r0;
        while (newton < MaxNewton && norm > NewtonTolerance * r0)
        {
            var (step, its) = BiCgStab(v => grid.Apply(lin, v), pre.Apply, -r, tolerance: 1e-13, maxIterations: 4000);
            krylov += its;
            newton++;
            var next = u + step.reshape(grid.Shape);
            var (rn, ln) = grid.Linearize(next, rows);
            double nn = rn.norm().ToDouble();
            if (!(nn < norm)) break; // rounding reached (or no progress): keep the last iterate
            (u, r, lin) = (next, rn, ln);
            bool slow = nn > 0.5 * norm;
            norm = nn;
            if (slow) break;
        }
        var exact = grid.Exact(problem);
        double error = ((u.reshape(-1) - exact).norm() / exact.norm()).ToDouble();
        return new FiniteDifferenceResult(error, newton, krylov, clock.Elapsed.TotalSeconds);
    }

    static FiniteDifferenceResult NotApplicable(Stopwatch clock, string why) => new(double.NaN, 0, 0, clock.Elapsed.TotalSeconds, why);

    /// <summary>One block of residual rows: an expression and the nodes it holds at.</summary>
    sealed record RowBlock(Expr Residual, Tensor Nodes, bool IsCondition);

    static List<RowBlock>? Rows(Problem problem, Grid grid)
    {
        var masks = new GridMasks(grid.Axes, problem.Domain);
        var blocks = new List<RowBlock>();
        var claimed = new List<bool[]>();
        foreach (var c in problem.Conditions)
        {
            if (c is not PointwiseCondition pc) return null;
            var m = masks.Of(pc.Region);
            if (pc.Region.Kind != RegionKind.Interior) claimed.Add(m);
            blocks.Add(new RowBlock(pc.Equation.Residual, masks.Indices(m, CPU), true));
        }
        var free = masks.Complement(claimed);
        foreach (var eq in problem.Equations) blocks.Insert(0, new RowBlock(eq.Equation.Residual, masks.Indices(free, CPU), false));
        return blocks;
    }

    /// <summary>The grid, its FD operators, and the residuals' linearisation at a grid function.</summary>
    sealed class Grid
    {
        public readonly IReadOnlyList<GridAxis> Axes;
        public readonly long[] Shape;
        readonly Tensor[] _coordinates;
        readonly Dictionary<(int, int), Tensor> _operators = [];
        readonly Problem _problem;

        public Grid(Problem problem, IReadOnlyList<int> counts)
        {
            _problem = problem;
            Axes = problem.Domain.Axes.Select((a, j) => new GridAxis(a, counts[j], CPU)).ToList();
            Shape = counts.Select(c => (long)c).ToArray();
            _coordinates = Axes.Select((a, j) =>
            {
                var shape = Enumerable.Repeat(1L, Axes.Count).ToArray();
                shape[j] = a.Count;
                return tensor(a.Values, dtype: ScalarType.Float64).reshape(shape).expand(Shape).reshape(-1).clone();
            }).ToArray();
        }

        public long Count => Shape.Aggregate(1L, (a, b) => a * b);

        /// <summary>The second-order FD matrix of d^order/dx^order on axis j (order 1 or 2).</summary>
        public Tensor Operator(int j, int order)
        {
            if (_operators.TryGetValue((j, order), out var d)) return d;
            int n = Axes[j].Count;
            double h = Axes[j].Spacing;
            var m = new double[n, n];
            if (order == 1)
            {
                for (int i = 1; i < n - 1; i++) { m[i, i - 1] = -0.5 / h; m[i, i + 1] = 0.5 / h; }
                m[0, 0] = -1.5 / h; m[0, 1] = 2 / h; m[0, 2] = -0.5 / h;
                m[n - 1, n - 1] = 1.5 / h; m[n - 1, n - 2] = -2 / h; m[n - 1, n - 3] = 0.5 / h;
            }
            else if (order == 2)
            {
                double s = 1 / (h * h);
                for (int i = 1; i < n - 1; i++) { m[i, i - 1] = s; m[i, i] = -2 * s; m[i, i + 1] = s; }
                if (n >= 4)
                {
                    m[0, 0] = 2 * s; m[0, 1] = -5 * s; m[0, 2] = 4 * s; m[0, 3] = -s;
                    m[n - 1, n - 1] = 2 * s; m[n - 1, n - 2] = -5 * s; m[n - 1, n - 3] = 4 * s; m[n - 1, n - 4] = -s;
                }
            }
            else throw new PinnException($"FD baseline: derivative order {order} along {Axes[j].Axis.Name} (orders 1 and 2 only)");
            d = tensor(m, dtype: ScalarType.Float64);
            _operators[(j, order)] = d;
            return d;
        }

        public Tensor Derivative(FieldDerivative d, Tensor u)
        {
            var names = Axes.Select(a => a.Axis.Name).ToList();
            foreach (var g in d.Wrt.GroupBy(w => w))
                u = Kronecker.ModeProduct(u, Operator(names.IndexOf(g.Key), g.Count()), names.IndexOf(g.Key));
            return u;
        }

        /// <summary>Per row block: the values at its nodes, and per derivative it reads the pointwise partial ∂r/∂(∂^α u) there.</summary>
        public sealed record Linearisation(IReadOnlyList<(Tensor Nodes, IReadOnlyList<(FieldDerivative Leaf, Tensor Partial)> Partials)> Blocks);

        public (Tensor Residual, Linearisation Lin) Linearize(Tensor u, IReadOnlyList<RowBlock> rows)
        {
            var provider = new Leaves(this, u);
            var eval = new TensorEvaluator(provider);
            var values = new List<Tensor>();
            var blocks = new List<(Tensor, IReadOnlyList<(FieldDerivative, Tensor)>)>();
            foreach (var b in rows)
            {
                var v = eval.Evaluate(b.Residual);
                var read = b.Residual.Descendants().Prepend(b.Residual).OfType<FieldDerivative>().Distinct().ToList();
                var partials = new List<(FieldDerivative, Tensor)>();
                if (read.Count > 0 && v.requires_grad)
                {
                    var leaves = read.Select(provider.Field).ToList();
                    var grads = autograd.grad([v.sum()], leaves, retain_graph: true, allow_unused: true);
                    for (int i = 0; i < read.Count; i++)
                        if (grads[i] is { IsInvalid: false } g) partials.Add((read[i], g.detach().index_select(0, b.Nodes)));
                }
                values.Add(v.detach().index_select(0, b.Nodes));
                blocks.Add((b.Nodes, partials));
            }
            return (cat(values, 0), new Linearisation(blocks));
        }

        /// <summary>J v: per block, Σ_α ∂r/∂(∂^α u) ⊙ (D_α v) at the block's nodes.</summary>
        public Tensor Apply(Linearisation lin, Tensor v)
        {
            var grid = v.reshape(Shape);
            var cache = new Dictionary<FieldDerivative, Tensor>();
            var parts = new List<Tensor>();
            foreach (var (nodes, partials) in lin.Blocks)
            {
                var row = zeros(nodes.shape[0], dtype: ScalarType.Float64);
                foreach (var (leaf, c) in partials)
                {
                    if (!cache.TryGetValue(leaf, out var dv)) cache[leaf] = dv = Derivative(leaf, grid).reshape(-1);
                    row = row + c * dv.index_select(0, nodes);
                }
                parts.Add(row);
            }
            return cat(parts, 0);
        }

        public Tensor Exact(Problem problem)
        {
            var provider = new Leaves(this, zeros(Shape, dtype: ScalarType.Float64));
            return new TensorEvaluator(provider).Evaluate(problem.ExactSolution[problem.Fields[0]]).detach();
        }

        sealed class Leaves(Grid grid, Tensor u) : IFieldProvider
        {
            readonly Dictionary<FieldDerivative, Tensor> _leaves = [];
            public ScalarType DType => ScalarType.Float64;
            public Device Device => CPU;
            public long Count => grid.Count;

            public Tensor Coordinate(string name)
            {
                for (int j = 0; j < grid.Axes.Count; j++)
                    if (grid.Axes[j].Axis.Name == name) return grid._coordinates[j];
                throw new PinnException($"FD baseline: unknown coordinate '{name}'");
            }

            public Tensor Field(FieldDerivative d)
            {
                if (_leaves.TryGetValue(d, out var leaf)) return leaf;
                using (no_grad()) leaf = grid.Derivative(d, u).reshape(-1);
                leaf = leaf.detach().requires_grad_(true);
                _leaves[d] = leaf;
                return leaf;
            }

            public Tensor Parameter(string name) =>
                grid._problem.ParameterValues.TryGetValue(name, out var v) ? tensor(v, dtype: ScalarType.Float64)
                : throw new PinnException($"FD baseline: unknown parameter '{name}'");
        }
    }

    /// <summary>
    /// M⁻¹ for J ≈ Σ_j ā_j T_j + b̄ I on the equation rows (T_j the Dirichlet FD second derivative of axis j, ā_j, b̄ the
    /// mean partials there) and the identity scaled by the mean partial on the condition rows: exact for Poisson/Helmholtz
    /// with Dirichlet data, a good approximation for mildly nonlinear ones. In the sine basis S_j (orthonormal, symmetric)
    /// of each axis's interior, Σ_j ā_j T_j + b̄ I is the diagonal Σ_j ā_j λ_j,k + b̄.
    /// </summary>
    sealed class Preconditioner
    {
        Grid _grid = null!;
        Tensor _interior = null!, _conditionRows = null!, _conditionScale = null!, _equationRows = null!, _inverseEigen = null!;
        Tensor[] _sine = null!;

        public static Preconditioner? From(Grid grid, Grid.Linearisation lin, IReadOnlyList<RowBlock> blocks)
        {
            var a = new double[grid.Axes.Count];
            double b = 0;
            var names = grid.Axes.Select(x => x.Axis.Name).ToList();
            var (eqNodes, eqPartials) = lin.Blocks[0];
            foreach (var (leaf, c) in eqPartials)
            {
                double mean = c.mean().ToDouble();
                if (leaf.Wrt.Count == 0) b += mean;
                else if (leaf.Wrt.Count == 2 && leaf.Wrt[0] == leaf.Wrt[1]) a[names.IndexOf(leaf.Wrt[0])] += mean;
            }
            if (a.All(x => x == 0)) return null;
            var p = new Preconditioner { _grid = grid };
            var sine = new Tensor[grid.Axes.Count];
            Tensor eig = zeros(grid.Axes.Select(x => (long)x.Count - 2).ToArray(), dtype: ScalarType.Float64) + b;
            for (int j = 0; j < grid.Axes.Count; j++)
            {
                int n = grid.Axes[j].Count, m = n - 2;
                double h = grid.Axes[j].Spacing;
                var k = arange(1, m + 1, dtype: ScalarType.Float64);
                var s = (Math.Sqrt(2.0 / (n - 1)) * (Math.PI / (n - 1) * k.unsqueeze(1) * k.unsqueeze(0)).sin());
                sine[j] = s;
                var lambda = -4 / (h * h) * (Math.PI * k / (2 * (n - 1))).sin().square();
                var shape = Enumerable.Repeat(1L, grid.Axes.Count).ToArray();
                shape[j] = m;
                eig = eig + a[j] * lambda.reshape(shape);
            }
            if ((eig.abs().min().ToDouble()) == 0) return null;
            p._sine = sine;
            p._inverseEigen = 1 / eig;
            p._equationRows = eqNodes;
            var interiorMask = InteriorIndex(grid);
            p._interior = interiorMask;
            var cond = lin.Blocks.Skip(1).Select(x => x.Nodes).ToList();
            p._conditionRows = cond.Count > 0 ? cat(cond, 0) : zeros(0, dtype: ScalarType.Int64);
            var scales = lin.Blocks.Skip(1).Select(x =>
                x.Partials.FirstOrDefault(q => q.Leaf.Wrt.Count == 0).Partial is { } c ? c : ones(x.Nodes.shape[0], dtype: ScalarType.Float64)).ToList();
            p._conditionScale = scales.Count > 0 ? cat(scales, 0) : zeros(0, dtype: ScalarType.Float64);
            return p;
        }

        static Tensor InteriorIndex(Grid grid)
        {
            var list = new List<long>();
            var idx = new int[grid.Axes.Count];
            for (long i = 0; i < grid.Count; i++)
            {
                long rem = i;
                bool inside = true;
                for (int j = grid.Axes.Count - 1; j >= 0; j--) { idx[j] = (int)(rem % grid.Shape[j]); rem /= grid.Shape[j]; }
                for (int j = 0; j < idx.Length; j++) inside &= idx[j] > 0 && idx[j] < grid.Shape[j] - 1;
                if (inside) list.Add(i);
            }
            return tensor(list.ToArray(), dtype: ScalarType.Int64);
        }

        /// <summary>z = M⁻¹ y: y is in row order (equation rows, then condition rows), z a grid function (flattened).</summary>
        public Tensor Apply(Tensor y)
        {
            var z = zeros(_grid.Count, dtype: ScalarType.Float64);
            long ne = _equationRows.shape[0];
            // equation rows: scatter onto the grid, take the interior, solve in the sine basis
            var eq = zeros(_grid.Count, dtype: ScalarType.Float64).index_copy(0, _equationRows, y.narrow(0, 0, ne));
            var inner = eq.index_select(0, _interior).reshape(_grid.Shape.Select(n => n - 2).ToArray());
            for (int j = 0; j < _sine.Length; j++) inner = Kronecker.ModeProduct(inner, _sine[j], j);
            inner = inner * _inverseEigen;
            for (int j = 0; j < _sine.Length; j++) inner = Kronecker.ModeProduct(inner, _sine[j], j);
            z = z.index_copy(0, _interior, inner.reshape(-1));
            if (_conditionRows.shape[0] > 0) z = z.index_copy(0, _conditionRows, y.narrow(0, ne, _conditionRows.shape[0]) / _conditionScale);
            return z;
        }
    }

    /// <summary>Right-preconditioned BiCGStab (van der Vorst 1992) for A(M⁻¹ w) = b, x = M⁻¹ w.</summary>
    static (Tensor X, int Iterations) BiCgStab(Func<Tensor, Tensor> a, Func<Tensor, Tensor> precondition, Tensor b, double tolerance, int maxIterations)
    {
        double bn = b.norm().ToDouble();
        var x = zeros_like(precondition(b));
        var r = b.clone();
        var rhat = r.clone();
        double rho = 1, alpha = 1, omega = 1;
        var v = zeros_like(b);
        var p = zeros_like(b);
        int i = 0;
        for (; i < maxIterations && r.norm().ToDouble() > tolerance * bn; i++)
        {
            double rhoNew = rhat.dot(r).ToDouble();
            if (rhoNew == 0) break;
            double beta = rhoNew / rho * (alpha / omega);
            p = r + beta * (p - omega * v);
            var ph = precondition(p);
            v = a(ph);
            alpha = rhoNew / rhat.dot(v).ToDouble();
            var s = r - alpha * v;
            var sh = precondition(s);
            var t = a(sh);
            double tt = t.dot(t).ToDouble();
            omega = tt == 0 ? 0 : t.dot(s).ToDouble() / tt;
            x = x + alpha * ph + omega * sh;
            r = s - omega * t;
            rho = rhoNew;
            if (omega == 0) { i++; break; }
        }
        return (x, i);
    }
}
