using FluentAssertions;
using Pinn.Gp;
using Pinn.Problems;
using Pinn.Training;
using Pinn.Training.Optimizers;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Pinn.Tests.Gp;

/// <summary>The matrix-free grid-value solve: conjugate gradients, the whitened system and its spectral preconditioner.</summary>
public class GridValueCgTests(ITestOutputHelper output)
{
    sealed record Case(GridGpField Gp, IReadOnlyList<LossTerm> Terms, StepContext Ctx, Problem Problem);

    static Case Setup(string problemName, int n, double f, double pdePrecision = 1e2, int seed = 1, double boundaryWeight = 200)
    {
        var problem = HighFrequencyBenchmark.All[problemName]();
        var gp = new GridGpField(new GpOptions
        {
            Grid = new Dictionary<string, int> { ["*"] = n }, MaxFrequency = new Dictionary<string, double> { ["*"] = f }, Components = 4, BoundaryWeight = boundaryWeight,
        }, problem, ScalarType.Float64, CPU);
        var terms = gp.CreateTerms(problem, TrainingOptions.GpDefaults);
        using var g = new Generator((ulong)seed);
        using (no_grad())
        {
            for (int i = 0; i < gp.OutputDim; i++) gp.Values(i).copy_(randn(gp.Values(i).shape, dtype: ScalarType.Float64, generator: g));
            foreach (var t in terms.OfType<GpLikelihoodTerm>()) gp.LogPrecision(t.Name).fill_(t.Kind == "pde" ? Math.Log(pdePrecision) : 0.0);
        }
        var ctx = new StepContext(gp, problem.Domain.CoordinateNames, problem.Fields,
                                  name => tensor(problem.ParameterValues[name], dtype: ScalarType.Float64));
        return new Case(gp, terms, ctx, problem);
    }

    static GridLinearisation Linearise(Case c)
    {
        GridStep step;
        using (no_grad()) step = c.Gp.Factorize();
        var objective = new GridValueResiduals(c.Gp, step, c.Ctx, c.Terms);
        return objective.Linearise(objective.Flatten());
    }

    [Fact]
    public void Spectral_preconditioner_holds_the_exact_diagonal_of_the_whitened_matrix_in_the_eigenbasis()
    {
        var c = Setup("poisson2d_smooth", 9, 3.0);
        using var _gp = c.Gp;
        using var scope = NewDisposeScope();
        var lin = Linearise(c);
        var system = new WhitenedGridSystem(lin);
        var pre = new SpectralPreconditioner(lin, damping: 0.5);
        // Dense A_V column by column, then A_W = Oᵀ A_V O with O = ⊗ L_j⁻¹ Q_j Λ_j^{1/2}.
        long p = system.Count;
        var av = stack(Enumerable.Range(0, (int)p).Select(i => { var e = zeros(p, dtype: ScalarType.Float64); e[i] = 1.0; return system.Apply(e) + 0.5 * e; }).ToList(), 1);
        var o = pre.Rotation.Aggregate(kron);
        // O is orthogonal (up to rounding): the basis is the preconditioner's own, whatever it chose.
        (o.T.matmul(o) - eye(p, dtype: ScalarType.Float64)).abs().max().ToDouble().Should().BeLessThan(1e-8);
        var aw = o.T.matmul(av).matmul(o);
        var expected = aw.diagonal();
        var got = pre.Diagonal(0).reshape(-1);
        output.WriteLine($"max |diag| {expected.abs().max().ToDouble():E3}, off-diagonal/diagonal {(aw - diag(expected)).abs().max().ToDouble() / expected.abs().max().ToDouble():E3}");
        // Same sums in another order, O orthogonal only to rounding × cond(K_j)^{1/2}: measured ≤ … relative; bound 1e-8.
        (got - expected).abs().max().ToDouble().Should().BeLessThan(1e-8 * expected.abs().max().ToDouble());
    }

    /// <summary>
    /// The spectral preconditioner against plain CG on U. Measured (2026-12-02, iteration counts to 1e-10 relative, cap 3000):
    /// poisson1d_sin100, 400 nodes, F = 20: spectral 21–31, whitened and none ≥ 3000 (did not converge) for τ ∈ {1, 1e4, 1e8};
    /// poisson2d_sin6cos20, 60², F = 4.5: spectral 7–156, the others ≥ 3000. Asserted: spectral converges in ≤ 100 and plain
    /// CG takes ≥ 10× as many — a margin of 3× on spectral's worst count and of ≥ 10× on the ratio.
    /// </summary>
    [Fact]
    public void The_spectral_preconditioner_cuts_the_CG_iterations_by_more_than_ten()
    {
        var c = Setup("poisson1d_sin100", 400, 20.0, 1e4);
        using var _gp = c.Gp;
        using var scope = NewDisposeScope();
        var lin = Linearise(c);
        var cg = new CgOptions { Tolerance = 1e-10, MaxIterations = 1000 };
        var (_, spectral) = GridValueSolve.Direction(lin, c.Gp.Options with { SolvePreconditioner = "spectral" }, cg);
        var (_, plain) = GridValueSolve.Direction(lin, c.Gp.Options with { SolvePreconditioner = "none" }, cg);
        output.WriteLine($"spectral {spectral.Iterations} it (rel {spectral.RelativeResidual:E2}), none {plain.Iterations} it (rel {plain.RelativeResidual:E2})");
        spectral.RelativeResidual.Should().BeLessThanOrEqualTo(1e-10);
        spectral.Iterations.Should().BeLessThanOrEqualTo(100);
        plain.Iterations.Should().BeGreaterThanOrEqualTo(10 * spectral.Iterations);
    }

    /// <summary>
    /// CG's Gauss–Newton step = the dense solve of the normal equations (JᵀJ) h = −Jᵀr̃ on small grids (1-D and 2-D, linear
    /// and Allen–Cahn): both solve the same full-rank system (the prior rows make J injective); the difference is CG's 1e-12
    /// tolerance times the condition number of the whitened system, bounded here by 1e-8 relative (measured in the test output).
    /// </summary>
    [Theory]
    [InlineData("poisson1d_sin100", 40, 3.0)]
    [InlineData("poisson2d_sin6cos20", 16, 1.0)]
    [InlineData("allen_cahn2d_multiscale", 10, 2.0)]
    public void The_CG_step_equals_the_dense_Gauss_Newton_step(string name, int n, double f)
    {
        var c = Setup(name, n, f, 1e2);
        using var _gp = c.Gp;
        using var scope = NewDisposeScope();
        var lin = Linearise(c);
        var (h, result) = GridValueSolve.Direction(lin, c.Gp.Options with { SolveDamping = 0 }, new CgOptions { Tolerance = 1e-13, MaxIterations = 5000 });
        var j = lin.DenseJacobian();
        var dense = linalg.solve(j.T.matmul(j), -j.T.matmul(lin.Residuals));
        double error = ((h - dense).norm() / dense.norm()).ToDouble();
        output.WriteLine($"{name} {n}: {result.Iterations} CG iterations, ‖h_cg − h_dense‖/‖h_dense‖ = {error:E2}");
        error.Should().BeLessThan(1e-8);
    }
}
