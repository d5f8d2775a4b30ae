using Pinn.Config;
using Pinn.Problems;
using Pinn.Training;
using Pinn.Training.Optimizers;
using Pinn.Training.Phases;
using TorchSharp;
using static TorchSharp.torch;
using static Pinn.Tests.Training.LevenbergMarquardtTests; // Closed, Linear, Random

namespace Pinn.Tests.Training;

/// <summary>Energy natural gradient (OPTIMIZERS.md §6–7) on residuals given in closed form (LevenbergMarquardtTests' objectives).</summary>
public class NaturalGradientTests
{
    /// <summary>r(x) = A·tanh(x) − b: nonlinear in x, J = A·diag(1 − tanh²x).</summary>
    static Closed Tanh(Tensor a, Tensor b) => new(x => a.matmul(x.tanh()) - b, x => a * (1 - x.tanh().square()).unsqueeze(0), a.shape[1]);

    static Tensor Vector(long n, int seed) => Random(n, 1, seed).squeeze(1);
    static double Relative(Tensor a, Tensor b) => ((a - b).norm() / b.norm()).ToDouble();

    [Theory]
    [InlineData(EngdSolve.Svd)]
    [InlineData(EngdSolve.Dual)]
    public void On_a_linear_least_squares_problem_one_step_with_eta_one_half_is_the_least_squares_solution(EngdSolve solve)
    {
        using var scope = NewDisposeScope();
        // N < P for the dual form (its J̃J̃ᵀ must be invertible; the solution is then the minimum-norm one), N > P for the SVD.
        var (n, p) = solve == EngdSolve.Svd ? (40, 7) : (7, 40);
        var a = Random(n, p, 1);
        var b = Vector(n, 2);
        // Dual: λ = 1e-15 · max diag moves the step by ~λ·max diag/σ²_min ≈ 1e-14 here; the SVD keeps every direction (σ² ≫ rcond·σ²_max).
        using var engd = new EnergyNaturalGradient(Linear(a, b), zeros(p, dtype: ScalarType.Float64), new EngdOptions { Solve = solve, Damping = 1e-15 });
        var step = engd.Step();
        step.Moved.Should().BeTrue();
        step.StepSize.Should().Be(0.5, "d = 2 × the Gauss–Newton step, and the GN step solves a linear problem in one go (trap 11)");
        var exact = linalg.pinv(a).matmul(b); // the least-squares (min-norm when N < P) solution
        // Both solves are backward stable on these well-conditioned matrices (cond ≈ 5): errors ≈ cond · ε ≪ 1e-12.
        Relative(engd.X, exact).Should().BeLessThan(1e-12);
        engd.Value.Should().BeApproximately((a.matmul(exact) - b).square().sum().ToDouble(), 1e-12);
    }

    [Theory]
    [InlineData(50, 12)]
    [InlineData(12, 50)]
    public void The_natural_gradient_is_twice_the_undamped_Gauss_Newton_step(int n, int p)
    {
        using var scope = NewDisposeScope();
        var a = Random(n, p, 3);
        var b = Vector(n, 4);
        var x0 = 0.3 * Vector(p, 5); // away from 0 so that tanh is not linear there
        using var engd = new EnergyNaturalGradient(Tanh(a, b), x0);
        var (d, rank) = engd.Direction();
        rank.Should().Be(Math.Min(n, p));
        // Levenberg–Marquardt at μ → 0: h = −(JᵀJ + μI)⁻¹Jᵀr̃ (primal, N > P) or −Jᵀ(JJᵀ + μI)⁻¹r̃ (dual, N < P), with μ = 1e-13·max
        // diag, which moves h by ~μ/σ²_min ≈ 1e-12 relative (σ²_min of these J ≳ 1): the bound 1e-10 leaves 100×.
        using var lm = new LevenbergMarquardt(Tanh(a, b), x0, new LmOptions { InitialDamping = 1e-13 });
        var h = lm.Direction(lm.Damping)!;
        Relative(d!, -2 * h).Should().BeLessThan(1e-10);
        // And ∇L = 2J̃ᵀr̃ mapped back by G = J̃ᵀJ̃ is the gradient: G·d = ∇L (exact when G is invertible, N > P; on range(G) otherwise).
        var (r, j) = engd.Linearisation();
        Relative(j.t().matmul(j.matmul(d!)), engd.Gradient()).Should().BeLessThan(1e-10);
    }

    [Fact]
    public void The_SVD_pseudo_inverse_and_the_damped_dual_form_agree_as_the_damping_vanishes()
    {
        using var scope = NewDisposeScope();
        const int n = 12, p = 50; // full row rank: J̃J̃ᵀ is invertible and J̃ᵀ(J̃J̃ᵀ + λI)⁻¹ → J̃⁺
        var a = Random(n, p, 6);
        var b = Vector(n, 7);
        var x0 = 0.3 * Vector(p, 8);
        using var svd = new EnergyNaturalGradient(Tanh(a, b), x0, new EngdOptions { Solve = EngdSolve.Svd });
        var ds = svd.Direction().Direction!;
        double previous = double.PositiveInfinity;
        foreach (var lambda in new[] { 1e-2, 1e-4, 1e-6, 1e-8, 1e-10 })
        {
            using var dual = new EnergyNaturalGradient(Tanh(a, b), x0, new EngdOptions { Solve = EngdSolve.Dual, Damping = lambda });
            double gap = Relative(dual.Direction().Direction!, ds);
            // The dual step is the SVD one with σ/(σ² + λ') in place of 1/σ (λ' = λ·max diag): relative gap ≤ λ'/σ²_min, and
            // λ'/σ²_min ≈ 5λ for these matrices (rows ≈ 50·0.9 in squared norm, σ²_min ≳ 9): 100λ + 1e-13 bounds it.
            gap.Should().BeLessThan(100 * lambda + 1e-13, $"λ = {lambda}");
            gap.Should().BeLessThan(previous, "the gap shrinks with λ");
            previous = gap;
        }
        previous.Should().BeLessThan(1e-8);
    }

    /// <summary>Linearises as r = x − 1, but every trial point evaluates far worse: no grid point can decrease the loss.</summary>
    sealed class Refusing(long count) : IResidualObjective
    {
        public long Count => count;
        public Tensor? Last;
        public (Tensor Residuals, Tensor? Jacobian) Evaluate(Tensor x, bool jacobian) =>
            jacobian ? (x - 1, eye(count, dtype: ScalarType.Float64)) : (full(count, 1e10, dtype: ScalarType.Float64), null);
        public void Assign(Tensor x) => Last = x.detach().clone().DetachFromDisposeScope();
    }

    [Fact]
    public void When_no_grid_point_decreases_the_loss_no_step_is_taken()
    {
        using var scope = NewDisposeScope();
        var refusing = new Refusing(3);
        using var engd = new EnergyNaturalGradient(refusing, zeros(3, dtype: ScalarType.Float64), new EngdOptions { GridPoints = 5 });
        double before = engd.Value;
        var s = engd.Step();
        s.Moved.Should().BeFalse();
        s.StepSize.Should().Be(0);
        s.Stop.Should().StartWith("no decrease", "the phase's resampling turns this into a redraw");
        engd.Value.Should().Be(before);
        engd.X.abs().max().ToDouble().Should().Be(0, "no step was taken");
        refusing.Last!.abs().max().ToDouble().Should().Be(0, "the parameters are put back at x, not left at the last grid point");
        engd.Evaluations.Should().Be(1 + 5, "one linearisation and the five grid points");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.9)] // SPRING momentum: the grid search guards it the same way
    public void The_grid_line_search_never_increases_the_loss(double momentum)
    {
        using var scope = NewDisposeScope();
        // Rosenbrock as residuals r = (10(y − x²), 1 − x) from (−1.2, 1): the full Gauss–Newton step overshoots early on.
        var rosen = new Closed(
            v => stack([10 * (v[1] - v[0].square()), 1 - v[0]]),
            v => stack([stack([-20 * v[0], tensor(10.0, dtype: ScalarType.Float64)]), stack([tensor(-1.0, dtype: ScalarType.Float64), tensor(0.0, dtype: ScalarType.Float64)])]),
            2);
        using var engd = new EnergyNaturalGradient(rosen, tensor(new[] { -1.2, 1.0 }, dtype: ScalarType.Float64), new EngdOptions { Momentum = momentum });
        var etas = new List<double>();
        for (int k = 0; k < 100 && engd.Value > 1e-28; k++)
        {
            double before = engd.Value;
            var s = engd.Step();
            engd.Value.Should().BeLessThanOrEqualTo(before, $"iteration {k}");
            if (!s.Moved) break;
            engd.Value.Should().BeLessThan(before, "a step is taken only when it decreases the loss");
            (rosen.Current - engd.X).abs().max().ToDouble().Should().Be(0, "the objective is left at the iterate");
            etas.Add(s.StepSize);
        }
        etas.Should().Contain(e => e < 0.5, "some early step is shortened by the search (else this test would not test it)");
        (engd.X - tensor(new[] { 1.0, 1.0 }, dtype: ScalarType.Float64)).abs().max().ToDouble().Should().BeLessThan(1e-6);
    }

    [Fact]
    public void SPRING_momentum_acts_only_in_the_null_space_of_the_Jacobian()
    {
        using var scope = NewDisposeScope();
        // φ_k = μφ_{k−1} + J̃⁺(r̃ − μJ̃φ_{k−1}) = J̃⁺r̃ + μ(I − J̃⁺J̃)φ_{k−1}: with full column rank (N > P) that is plain ENGD;
        // with N < P the second step differs from plain ENGD by exactly μ(I − J̃⁺J̃)φ₁.
        foreach (var (n, p) in new[] { (30, 6), (6, 30) })
        {
            var a = Random(n, p, 9);
            var b = Vector(n, 10);
            var x0 = 0.3 * Vector(p, 11);
            using var plain = new EnergyNaturalGradient(Tanh(a, b), x0);
            using var spring = new EnergyNaturalGradient(Tanh(a, b), x0, new EngdOptions { Momentum = 0.5 });
            spring.Step().Moved.Should().BeTrue();
            var phi1 = spring.Momentum!.clone();
            using var fresh = new EnergyNaturalGradient(Tanh(a, b), spring.X); // plain ENGD from the same point
            var d2 = spring.Direction().Direction!;
            var dPlain = fresh.Direction().Direction!;
            var (_, j) = fresh.Linearisation();
            var nullPart = phi1 - linalg.pinv(j).matmul(j.matmul(phi1));
            Relative(d2, dPlain + 2 * 0.5 * nullPart).Should().BeLessThan(1e-9, $"N = {n}, P = {p}");
            if (n > p) nullPart.norm().ToDouble().Should().BeLessThan(1e-10 * phi1.norm().ToDouble());
            else nullPart.norm().ToDouble().Should().BeGreaterThan(1e-3 * phi1.norm().ToDouble(), "else the N < P case tests nothing");
        }
    }
}

/// <summary>The engd phase: config, a Poisson run and its checkpoint resume (PhaseTrainingTests has the shared resume theory).</summary>
[Collection("training")]
public class EngdPhaseTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static RunConfig Read(string phases) =>
        RunConfigLoader.Read(YamlDoc.Parse($"problem: poisson1d\ntraining:\n  dtype: float64\n  phases: {phases}\n", "cfg.yaml"), ProblemCatalog.Instance);

    [Fact]
    public void Engd_keys_parse_and_an_unknown_one_is_named()
    {
        var e = (EngdPhaseOptions)Read("[{engd: {steps: 7, solve: dual, damping: 1e-8, grid_points: 20, momentum: 0.9, resample: {every: 1, k: 0}}}]").Training.Plan.Single();
        e.Steps.Should().Be(7);
        e.Engd.Should().BeEquivalentTo(new EngdOptions { Solve = EngdSolve.Dual, Damping = 1e-8, GridPoints = 20, Momentum = 0.9 });
        ((EngdPhaseOptions)Read("[{engd: {rcond: [1e-4, 1e-8]}}]").Training.Plan.Single()).Engd.Rcond.Should().Equal(1e-4, 1e-8);
        e.Resample!.Every.Should().Be(1);
        var act = () => Read("[{engd: {steps: 5, rcnd: 1e-8}}]");
        act.Should().Throw<PinnException>().WithMessage("cfg.yaml:4: unknown key 'training.phases[0].engd.rcnd' (did you mean 'training.phases[0].engd.rcond'?)*");
        var search = () => Read("[{engd: {line_search: wolfe}}]");
        search.Should().Throw<PinnException>().WithMessage("cfg.yaml:4: training.phases[0].engd.line_search: unknown line search 'wolfe' (use grid*");
        var momentum = () => Read("[{engd: {momentum: 1}}]");
        momentum.Should().Throw<PinnException>().WithMessage("*training.phases[0].engd: momentum must be in [0, 1) (got 1)*");
    }

    [Fact, Trait("Category", "Pinned")]
    public void A_Poisson_1D_run_with_the_natural_gradient_improves_on_its_Adam_warm_up()
    {
        // poisson1d_ssbroyden.yaml's network and batch (2→[20×3]→1, 901 parameters, 258 residuals: J̃ is underdetermined and
        // the pseudo-inverse gives the minimum-norm Gauss–Newton step), Adam 1000 (ends near 3e-4) → ENGD 40 with the cut-off
        // ladder (each step takes the best cut-off and η; the ~5 s of ENGD fit the test's time). Adam alone ends at 3.4e-4 (seed 0).
        // float64, spread over native AMD EPYC / MKL Intel AVX-512 / AVX2-only arithmetic × 1 thread and seeds 0–4 (tests/spread/pinned.sh -t 1, 2026-12-02; 2 threads
        // not measured: the shared VM was too loaded): 8.1e-6 … 8.1e-5; bound 3.1× the worst.
        var cfg = RunConfigLoader.Load(TestPaths.Problem("poisson1d/poisson1d_ssbroyden.yaml"), ProblemCatalog.Instance,
            new[] { $"output.dir={_dir}", "output.name=engd", "training.checkpoint_every=0",
                    "training.phases=[{adam: {steps: 1000}}, {engd: {steps: 40, rcond: [1e-4, 1e-6, 1e-8, 1e-10, 1e-12]}}]" }.Concat(Pinned.Overrides));
        var r = Runner.Run(cfg).Result;
        r.Status.Should().Be("completed");
        r.Phases!.Select(p => p.Name).Should().Equal("adam", "engd");
        Pinned.Below("poisson1d_engd", r.Error!.RelativeL2, 2.5e-4);
    }
}
