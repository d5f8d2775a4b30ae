using FluentAssertions;
using Pinn.Gp;
using Pinn.Problems;
using Pinn.Symbolic;
using Pinn.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Pinn.Tests.Gp;

/// <summary>The GP objective in the grid values as residuals for the shared Gauss–Newton machinery (model.solve_every).</summary>
public class GridValueResidualsTests
{
    /// <summary>A GP with random grid values and random noise precisions (so the √(λτ) scaling is exercised).</summary>
    static (GridGpField Gp, IReadOnlyList<LossTerm> Terms, StepContext Ctx) Setup(Problem problem, Dictionary<string, int> grid, double f,
                                                                                  int seed = 1, double precisionScale = 1)
    {
        var gp = new GridGpField(new GpOptions
        {
            Grid = grid, MaxFrequency = new Dictionary<string, double> { ["*"] = f }, Components = 4, SolvePrecisionScale = precisionScale,
        }, problem, ScalarType.Float64, CPU);
        var terms = gp.CreateTerms(problem, TrainingOptions.GpDefaults);
        using var g = new Generator((ulong)seed);
        using (no_grad())
        {
            for (int i = 0; i < gp.OutputDim; i++) gp.Values(i).copy_(randn(gp.Values(i).shape, dtype: ScalarType.Float64, generator: g));
            foreach (var t in terms) gp.LogPrecision(t.Name).copy_(0.5 * randn(1, dtype: ScalarType.Float64, generator: g));
        }
        var ctx = new StepContext(gp, problem.Domain.CoordinateNames, problem.Fields,
                                  name => tensor(problem.ParameterValues[name], dtype: ScalarType.Float64));
        return (gp, terms, ctx);
    }

    // 1-D Allen–Cahn (nonlinear, Dirichlet ends) and the 2-D space-time Allen–Cahn benchmark (nonlinear, an initial
    // condition and a periodic pair u, u_x; axes of different lengths, so a transposed Kronecker factor would show).
    static (GridGpField, IReadOnlyList<LossTerm>, StepContext) Case(string name) => name switch
    {
        "allen_cahn1d" => Setup(HighFrequencyBenchmark.All["allen_cahn1d_sin100"](), new() { ["x"] = 16 }, 1),
        "allen_cahn" => Setup(ProblemCatalog.Instance.Create("allen_cahn")!, new() { ["x"] = 7, ["t"] = 6 }, 1),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [InlineData("allen_cahn1d")]
    [InlineData("allen_cahn")]
    public void Squared_residuals_are_twice_the_GP_objective_less_its_terms_free_of_U(string name)
    {
        var (gp, terms, ctx) = Case(name);
        using var _gp = gp;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double loss = gp.PriorLoss(ctx)!.ToDouble() + terms.Select(t => t.Weight * t.Loss(ctx).ToDouble()).Sum();
        var step = gp.Factorize();
        // The U-free parts: ½ log|K| per field (prior) and −λ_k n_k/2 log τ_k per likelihood (LearnedPrecisions.NegativeLogLikelihood).
        double free = gp.OutputDim * 0.5 * Kronecker.LogDet(step.Lower).ToDouble();
        foreach (var t in terms)
        {
            long rows = t switch { GpLikelihoodTerm l => l.Nodes.shape[0], GpPeriodicTerm p => p.Matched.Count * p.Low.shape[0], _ => throw new InvalidOperationException(t.Name) };
            free -= t.Weight * 0.5 * rows * gp.LogPrecision(t.Name).ToDouble();
        }
        var objective = new GridValueResiduals(gp, step, ctx, terms);
        var (r, _) = objective.Evaluate(objective.Flatten(), jacobian: false);
        double half = 0.5 * r.square().sum().ToDouble();
        // Same float64 sums in another order (the prior by triangular solves both ways, the residuals by mode products
        // both ways): measured 2.0e-16 (1-D) and 1.3e-16 (2-D) relative; bound 1e-12.
        half.Should().BeApproximately(loss - free, 1e-12 * Math.Abs(loss - free));
    }

    [Fact]
    public void The_solve_precision_scale_multiplies_the_likelihood_rows_and_leaves_the_prior_rows()
    {
        var problem = ProblemCatalog.Instance.Create("allen_cahn")!;
        var (gp1, terms1, ctx1) = Setup(problem, new() { ["x"] = 7, ["t"] = 6 }, 1);
        var (gp9, terms9, ctx9) = Setup(problem, new() { ["x"] = 7, ["t"] = 6 }, 1, precisionScale: 9);
        using var _1 = gp1;
        using var _9 = gp9;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor Rows(GridGpField gp, IReadOnlyList<LossTerm> terms, StepContext ctx)
        {
            var objective = new GridValueResiduals(gp, gp.Factorize(), ctx, terms);
            return objective.Evaluate(objective.Flatten(), jacobian: false).Item1;
        }
        var r1 = Rows(gp1, terms1, ctx1);
        var r9 = Rows(gp9, terms9, ctx9);
        long prior = gp1.NodeCount * gp1.OutputDim; // the prior rows come first, one per node and field
        r9.shape.Should().Equal(r1.shape);
        // same seed, same draws: the prior rows are the same numbers; the likelihood rows carry √9 = 3 (one rounding each)
        (r9[..(int)prior] - r1[..(int)prior]).abs().max().ToDouble().Should().Be(0);
        var tail = TensorIndex.Slice(prior);
        (r9[tail] - 3 * r1[tail]).abs().max().ToDouble().Should().BeLessThan(1e-14 * (3 * r1[tail]).abs().max().ToDouble());
    }

    [Theory]
    [InlineData("allen_cahn1d")]
    [InlineData("allen_cahn")]
    public void Jacobian_matches_central_differences_and_its_matrix_free_products(string name)
    {
        var (gp, terms, ctx) = Case(name);
        using var _gp = gp;
        using var scope = NewDisposeScope();
        GridStep step;
        using (no_grad()) step = gp.Factorize();
        var objective = new GridValueResiduals(gp, step, ctx, terms);
        var x = objective.Flatten();
        var (r, j) = objective.Evaluate(x, jacobian: true);
        j!.shape.Should().Equal(r.shape[0], objective.Count);
        // Central differences, column by column. Rounding eps·|r̃|/h dominates (1-D: the source sin(100x)'' makes |r̃| ~ 1e5);
        // truncation is h²·√(λτ)·|D e_i|³ from the cubic u³ alone. Measured relative to max|J|: 8.1e-10 (1-D) and
        // 2.5e-10 (2-D) at h = 1e-4 (4.5e-9 at h = 1e-5); bound 1e-8.
        const double h = 1e-4;
        var fd = zeros_like(j);
        for (long i = 0; i < objective.Count; i++)
        {
            var e = zeros_like(x);
            e[i] = h;
            var (rp, _) = objective.Evaluate(x + e, jacobian: false);
            var (rm, _) = objective.Evaluate(x - e, jacobian: false);
            fd[TensorIndex.Colon, i] = (rp - rm) / (2 * h);
        }
        double scale = j.abs().max().ToDouble();
        (fd - j).abs().max().ToDouble().Should().BeLessThan(1e-8 * scale);

        // The factored form (what a matrix-free solve would use) is the same J: J v, Jᵀy, JᵀJ v and Jᵀr̃ to rounding.
        // (measured ≤ 4.4e-16 relative; bound 1e-12).
        var lin = objective.Linearise(x);
        using var g = new Generator(7);
        var v = randn(objective.Count, dtype: ScalarType.Float64, generator: g);
        var y = randn(r.shape[0], dtype: ScalarType.Float64, generator: g);
        (lin.Residuals - r).abs().max().ToDouble().Should().BeLessThan(1e-12 * r.abs().max().ToDouble());
        var jv = j.matmul(v);
        (lin.Jv(v) - jv).abs().max().ToDouble().Should().BeLessThan(1e-12 * jv.abs().max().ToDouble());
        var jty = j.T.matmul(y);
        (lin.JTy(y) - jty).abs().max().ToDouble().Should().BeLessThan(1e-12 * jty.abs().max().ToDouble());
        var jtjv = j.T.matmul(jv);
        (lin.Apply(v) - jtjv).abs().max().ToDouble().Should().BeLessThan(1e-12 * jtjv.abs().max().ToDouble());
        var grad = j.T.matmul(r);
        (lin.Gradient() - grad).abs().max().ToDouble().Should().BeLessThan(1e-12 * grad.abs().max().ToDouble());
    }

    [Fact]
    public void For_a_linear_PDE_the_solve_is_the_exact_minimiser_of_the_dense_normal_equations()
    {
        // u_xx = f, u = sin(20x) on [0, 2π], 24 nodes: the objective is quadratic in U, so U* solves
        // (K⁻¹ + Σ λ_k τ_k J_kᵀJ_k) U = −Σ λ_k τ_k J_kᵀ r_k(0). The reference builds that system from the loss path alone:
        // r_k(U) from the terms' own evaluator (GridFieldProvider), J_k column by column as r_k(e_i) − r_k(0) (exact for
        // an affine r), K from the Cholesky factors, one dense linalg.solve.
        var problem = HighFrequencyBenchmark.All["poisson1d_sin20"]();
        var (gp, terms, ctx) = Setup(problem, new() { ["x"] = 24 }, 1.5);
        using var _gp = gp;
        using var scope = NewDisposeScope();
        long n = gp.NodeCount;
        var start = gp.Values(0).detach().clone();
        var likelihoods = terms.OfType<GpLikelihoodTerm>().ToList();
        Tensor Residual(GpLikelihoodTerm t, Tensor u)
        {
            using var _ = no_grad();
            gp.Values(0).copy_(u);
            var step = gp.Factorize();
            var ev = new TensorEvaluator(new GridFieldProvider(gp, step, ctx.Coordinates, ctx.Fields, ctx.Parameter));
            return ev.Evaluate(t.Residual).index_select(0, t.Nodes);
        }
        Tensor h, rhs;
        using (no_grad())
        {
            var l = gp.Factorize().Lower[0];
            h = linalg.inv(l.matmul(l.T));
            rhs = zeros(n, dtype: ScalarType.Float64);
            foreach (var t in likelihoods)
            {
                double w = t.Weight * gp.LogPrecision(t.Name).exp().ToDouble();
                var r0 = Residual(t, zeros(n, dtype: ScalarType.Float64));
                var jk = stack(Enumerable.Range(0, (int)n).Select(i =>
                {
                    var e = zeros(n, dtype: ScalarType.Float64);
                    e[i] = 1.0;
                    return Residual(t, e) - r0;
                }).ToList(), 1);
                h += w * jk.T.matmul(jk);
                rhs -= w * jk.T.matmul(r0);
            }
        }
        var expected = linalg.solve(h, rhs);
        using (no_grad()) gp.Values(0).copy_(start); // the solve starts from random values, not from the reference's probes
        GridValueSolve.Run(gp, ctx, terms); // default options: one LM step with μ₀ = 1e-12 · max diag(JᵀJ)
        var got = gp.Values(0).detach().reshape(-1);
        // The two systems differ by rounding and by μ₀: cond(H) = 2.5e4 here (measured), so rounding alone moves U* by
        // ~1e-12 relative; measured 3.2e-13. μ₀ is what the bound guards: τ = 1e-12 instead of 1e-16 gave 1.8e-10.
        (got - expected).abs().max().ToDouble().Should().BeLessThan(1e-10 * expected.abs().max().ToDouble());
    }

}
