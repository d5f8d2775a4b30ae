using Pinn.Config;
using Pinn.Problems;
using Pinn.Training;
using Pinn.Training.Optimizers;
using Pinn.Training.Phases;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Training;

/// <summary>Levenberg–Marquardt (OPTIMIZERS.md §5) on toy residuals, and the residual view of the trainer's loss terms.</summary>
public class LevenbergMarquardtTests
{
    /// <summary>r(x) given in closed form with its Jacobian.</summary>
    internal sealed class Closed(Func<Tensor, Tensor> r, Func<Tensor, Tensor> j, long count) : IResidualObjective
    {
        public long Count => count;
        public Tensor Current = zeros(count, dtype: ScalarType.Float64);
        public (Tensor Residuals, Tensor? Jacobian) Evaluate(Tensor x, bool jacobian) { Assign(x); return (r(x), jacobian ? j(x) : null); }
        public void Assign(Tensor x) => Current = x.detach().clone().DetachFromDisposeScope(); // outlives the optimiser's scopes
    }

    internal static Closed Linear(Tensor a, Tensor b) => new(x => a.matmul(x) - b, _ => a.clone(), a.shape[1]);

    internal static Tensor Random(long n, long p, int seed)
    {
        var g = new Generator((ulong)seed);
        return randn(n, p, dtype: ScalarType.Float64, generator: g);
    }

    [Fact]
    public void On_a_linear_least_squares_problem_one_step_with_vanishing_damping_is_the_least_squares_solution()
    {
        using var scope = NewDisposeScope();
        var a = Random(40, 7, 1);
        var b = Random(40, 1, 2).squeeze(1);
        using var lm = new LevenbergMarquardt(Linear(a, b), zeros(7, dtype: ScalarType.Float64), new LmOptions { InitialDamping = 1e-14 });
        var step = lm.Step();
        step.Moved.Should().BeTrue();
        var exact = linalg.lstsq(a, b.unsqueeze(1)).Solution.squeeze(1);
        ((lm.X - exact).norm() / exact.norm()).ToDouble().Should().BeLessThan(1e-10);
        step.GainRatio.Should().BeApproximately(1, 1e-8, "the model is exact for a linear residual");
    }

    [Fact]
    public void With_large_damping_the_step_is_a_short_gradient_descent_step()
    {
        using var scope = NewDisposeScope();
        var a = Random(30, 5, 3);
        var b = Random(30, 1, 4).squeeze(1);
        using var lm = new LevenbergMarquardt(Linear(a, b), zeros(5, dtype: ScalarType.Float64));
        const double mu = 1e10;
        var h = lm.Direction(mu)!;
        var g = a.t().matmul(a.matmul(zeros(5, dtype: ScalarType.Float64)) - b);
        ((h + g / mu).norm() / (g / mu).norm()).ToDouble().Should().BeLessThan(1e-8, "(A + μI)⁻¹g → g/μ as μ → ∞");
    }

    [Theory]
    [InlineData(50, 12)]  // N > P
    [InlineData(12, 50)]  // N < P
    public void The_primal_and_dual_solves_give_the_same_step(int n, int p)
    {
        using var scope = NewDisposeScope();
        var a = Random(n, p, 5);
        var b = Random(n, 1, 6).squeeze(1);
        using var primal = new LevenbergMarquardt(Linear(a, b), zeros(p, dtype: ScalarType.Float64), new LmOptions { Solve = LmSolve.Primal });
        using var dual = new LevenbergMarquardt(Linear(a, b), zeros(p, dtype: ScalarType.Float64), new LmOptions { Solve = LmSolve.Dual });
        foreach (var mu in new[] { 0.1, 1.0, 1e3 }) // well conditioned: the two solves agree to cond · ε
        {
            var hp = primal.Direction(mu)!;
            var hd = dual.Direction(mu)!;
            primal.LastSolve.Should().Be(LmSolve.Primal);
            dual.LastSolve.Should().Be(LmSolve.Dual);
            ((hp - hd).norm() / hp.norm()).ToDouble().Should().BeLessThan(1e-12, $"μ = {mu}");
        }
    }

    /// <summary>Linearises as r = x − 1 but every trial point evaluates as far worse: no step can be accepted.</summary>
    sealed class Refusing(long count) : IResidualObjective
    {
        public long Count => count;
        public (Tensor Residuals, Tensor? Jacobian) Evaluate(Tensor x, bool jacobian) =>
            jacobian ? (x - 1, eye(count, dtype: ScalarType.Float64)) : (full(count, 1e10, dtype: ScalarType.Float64), null);
        public void Assign(Tensor x) { }
    }

    [Fact]
    public void When_every_trial_fails_the_step_reports_it_and_the_damping_is_back_where_it_began()
    {
        using var scope = NewDisposeScope();
        using var lm = new LevenbergMarquardt(new Refusing(3), zeros(3, dtype: ScalarType.Float64), new LmOptions { MaxRejections = 30 });
        double before = lm.Damping;
        var s = lm.Step();
        s.Moved.Should().BeFalse();
        s.Rejections.Should().BeInRange(1, 30);
        s.Stop.Should().StartWith($"no decrease in {s.Rejections} trial steps", "a step that shrank through rejections is not convergence");
        lm.Damping.Should().Be(before, "a fresh batch starts from the damping of the last good linearisation, not from 2^465 × it");
        lm.X.abs().max().ToDouble().Should().Be(0, "no step was taken");
    }

    [Fact]
    public void Damping_rises_on_a_rejected_step_falls_on_a_good_one_and_Rosenbrock_is_solved()
    {
        using var scope = NewDisposeScope();
        // Rosenbrock as residuals: r = (10(y − x²), 1 − x), minimum (1, 1).
        var rosen = new Closed(
            v => stack([10 * (v[1] - v[0].square()), 1 - v[0]]),
            v => stack([stack([-20 * v[0], full(1, 10.0, dtype: ScalarType.Float64).squeeze()]), stack([full(1, -1.0, dtype: ScalarType.Float64).squeeze(), zeros(1, dtype: ScalarType.Float64).squeeze()])]),
            2);
        using var lm = new LevenbergMarquardt(rosen, tensor(new[] { -1.2, 1.0 }, dtype: ScalarType.Float64), new LmOptions { InitialDamping = 1 });
        int rejectedSteps = 0, goodSteps = 0;
        for (int k = 0; k < 200; k++)
        {
            double before = lm.Damping;
            var s = lm.Step();
            if (s.Stop is not null) break;
            s.Moved.Should().BeTrue();
            if (s.Rejections == 0 && s.GainRatio > 0.5)
            {
                lm.Damping.Should().BeLessThan(before, "a good step (ϱ > ½) lowers μ");
                goodSteps++;
            }
            if (s.Rejections > 0)
            {
                // Each rejection multiplies μ by ν ≥ 2 before the accepted step's factor ≥ ⅓.
                lm.Damping.Should().BeGreaterThanOrEqualTo(before * 2.0 / 3 * (1 - 1e-12), "a rejected trial raises μ");
                rejectedSteps++;
            }
            if (lm.Value < 1e-28) break;
        }
        goodSteps.Should().BeGreaterThan(0);
        rejectedSteps.Should().BeGreaterThan(0, "from (−1.2, 1) with μ₀ = τ·max diag = 1·(24² + 1) some trials are rejected");
        (lm.X - tensor(new[] { 1.0, 1.0 }, dtype: ScalarType.Float64)).abs().max().ToDouble().Should().BeLessThan(1e-8);
        rosen.Current.Should().NotBeNull();
        (rosen.Current - lm.X).abs().max().ToDouble().Should().Be(0, "the objective is left at the iterate");
    }
}

/// <summary>The trainer's terms as residual vectors: ‖r̃‖² is the weighted loss, and J is its exact Jacobian.</summary>
[Collection("training")]
public class ResidualViewTests
{
    [Theory]
    [InlineData("burgers")]      // pde, ic, bc
    [InlineData("allen_cahn")]   // periodic boundary terms
    [InlineData("poisson1d")]
    public void The_squared_norm_of_the_stacked_residuals_is_the_weighted_loss(string problem)
    {
        using var scope = NewDisposeScope();
        var cfg = RunConfigLoader.Load(problem, ProblemCatalog.Instance,
            ["training.dtype=float64", "model.type=mlp", "model.layers=[8, 8]", "training.causal.enabled=false", "training.weights={ic: 3}",
             "training.batch={pde: 64, ic: 16, bc: 8}"]);
        using var model = Pinn.Models.ModelFactory.Create(cfg.Model, cfg.Problem, ScalarType.Float64, CPU);
        using var trainer = new Trainer(cfg.Problem, model, cfg.Training with { Causal = cfg.Training.Causal with { Enabled = false } }, ScalarType.Float64, CPU);
        IPhaseHost host = trainer;
        host.DrawBatch();
        var ctx = host.NewContext();
        var (total, _) = host.Loss(ctx);
        var r = cat(host.Terms.Select(t => t.ScaledResiduals(host.NewContext()) ?? throw new Exception(t.Name)).ToList(), 0);
        r.square().sum().ToDouble().Should().BeApproximately(total.ToDouble(), 1e-12 * total.ToDouble());
    }

    [Theory]
    [InlineData("model.layers=[6, 6]", true)]
    [InlineData("model.hard_constraints={initial: true, dirichlet: true}", true)] // under hard constraints too
    [InlineData("model.activation=sin", false)]                                  // no fast path: jets would only cost
    public void With_an_LM_phase_planned_auto_takes_jets_where_the_fast_Jacobian_reads_them(string model, bool jets)
    {
        var cfg = RunConfigLoader.Load("burgers", ProblemCatalog.Instance, ["training.dtype=float64", "model.layers=[6, 6]", model]);
        using var m = Pinn.Models.ModelFactory.Create(cfg.Model, cfg.Problem, ScalarType.Float64, CPU);
        (DerivativeEngine.JetSet("auto", m, cfg.Problem, CPU, preferJets: true) is not null).Should().Be(jets);
    }

    [Theory]
    [InlineData("burgers", "autograd")]
    [InlineData("burgers", "jet")]
    [InlineData("heat1d", "jet")]
    public void The_Jacobian_matches_central_differences_and_its_transpose_times_r_is_half_the_gradient(string problem, string derivatives)
    {
        using var scope = NewDisposeScope();
        var cfg = RunConfigLoader.Load(problem, ProblemCatalog.Instance,
            ["training.dtype=float64", "model.layers=[6, 6]", "training.batch={pde: 20, ic: 6, bc: 4}", $"training.derivatives={derivatives}"]);
        using var model = Pinn.Models.ModelFactory.Create(cfg.Model, cfg.Problem, ScalarType.Float64, CPU);
        using var trainer = new Trainer(cfg.Problem, model, cfg.Training, ScalarType.Float64, CPU);
        IPhaseHost host = trainer;
        host.DrawBatch();
        var objective = new ResidualObjective(model.TrainableParameters, () => cat(host.Terms.Select(t => t.ScaledResiduals(host.NewContext())!).ToList(), 0));
        var x = objective.Flatten();
        var (r, j) = objective.Evaluate(x, jacobian: true);
        j!.shape.Should().Equal(r.shape[0], objective.Count);
        j.abs().max().ToDouble().Should().BeGreaterThan(0);
        const double h = 1e-6;
        for (long k = 0; k < objective.Count; k += 7)
        {
            var e = zeros_like(x);
            e[k] = h;
            var (rp, _) = objective.Evaluate(x + e, false);
            var (rm, _) = objective.Evaluate(x - e, false);
            var fd = (rp - rm) / (2 * h);
            ((fd - j[.., k]).abs().max() / (j.abs().max())).ToDouble().Should().BeLessThan(1e-7, $"column {k}");
        }
        var (value, gradient) = objective.Scalar.Evaluate(x);
        value.Should().BeApproximately(r.square().sum().ToDouble(), 1e-14 * value);
        ((2 * j.t().matmul(r) - gradient).abs().max() / gradient.abs().max()).ToDouble().Should().BeLessThan(1e-12);
    }
}

[Collection("training")]
public class LmPhaseTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact, Trait("Category", "Pinned")]
    public void A_Poisson_1D_run_with_Levenberg_Marquardt_reaches_1e_8()
    {
        // poisson1d_ssbroyden.yaml's network and batch (2→[20×3]→1, 901 parameters, 258 residuals: the dual solve), Adam 1000
        // (ends near 1e-3) → LM 2000 (~10 s on a quiet core). `auto` takes jets because an LM phase is planned, so J comes from
        // the per-sample fast path. LM's gain ratio stays near 0.6, so Nielsen's rule lowers μ slowly and the error falls
        // linearly, past 1e-8 after ~1500 steps (the issue: "reaches 1e-8 within a test-sized budget on any CPU").
        // float64, spread (tests/spread/pinned.sh, 2026-12-03, Intel Xeon) over native / MKL Intel AVX-512 / AVX2-only arithmetic
        // × 1, 2 threads for seed 0, which the test runs, and seeds 1–4: 6.4e-12 … 2.7e-11 with geodesic acceleration (the default;
        // plain LM: 1.63e-9, seeds up to 7.7e-9). The bound stays the 1e-8: it must hold for plain LM too (geodesic: false).
        var cfg = RunConfigLoader.Load(TestPaths.Problem("poisson1d/poisson1d_ssbroyden.yaml"), ProblemCatalog.Instance,
            new[] { $"output.dir={_dir}", "output.name=lm", "training.checkpoint_every=0",
                    "training.phases=[{adam: {steps: 1000}}, {lm: {steps: 2000}}]" }.Concat(Pinned.Overrides));
        var r = Runner.Run(cfg).Result;
        r.Status.Should().Be("completed");
        r.Phases!.Select(p => p.Name).Should().Equal("adam", "lm");
        r.Phases![1].Steps.Should().Be(2000);
        Pinned.Below("poisson1d_lm", r.Error!.RelativeL2, 1e-8);
    }

    [Fact]
    public void A_run_can_start_with_Levenberg_Marquardt()
    {
        var cfg = RunConfigLoader.Load("poisson1d", ProblemCatalog.Instance,
            [$"output.dir={_dir}", "output.name=lm-first", "training.dtype=float64", "model.layers=[8]", "training.batch={pde: 32, bc: 2}",
             "training.checkpoint_every=0", "training.phases=[{lm: {steps: 5}}]"]);
        var r = Runner.Run(cfg).Result;
        r.Status.Should().Be("completed");
        r.Phases!.Single().Name.Should().Be("lm");
        r.Phases![0].Steps.Should().Be(5);
        double.IsFinite(r.FinalLoss).Should().BeTrue();
    }

    [Fact]
    public void A_causal_term_is_refused_by_name()
    {
        var cfg = RunConfigLoader.Load("allen_cahn", ProblemCatalog.Instance,
            [$"output.dir={_dir}", "output.name=causal", "training.dtype=float64", "model.type=mlp", "model.layers=[4]",
             "training.causal.enabled=true", "training.phases=[{lm: {steps: 2}}]", "training.batch={pde: 64, ic: 8, bc: 4}"]);
        var act = () => Runner.Run(cfg);
        act.Should().Throw<PinnException>().WithMessage("*lm: loss term 'pde' (CausalResidualTerm) is not a weighted mean of squares*");
    }

    [Fact]
    public void A_GP_run_is_refused_naming_its_prior()
    {
        // Once: "... (GpPriorTerm) is not a weighted mean of squares (causal weighting?)", which named the wrong cause. The
        // prior is the model's now (IFieldModel.PriorLoss), and the refusal reads the model's PriorDescription.
        var cfg = RunConfigLoader.Load(TestPaths.Problem("gp/poisson1d_sin20.yaml"), ProblemCatalog.Instance,
            [$"output.dir={_dir}", "output.name=gp-lm", "training.checkpoint_every=0", "training.phases=[{lm: {steps: 2}}]"]);
        var act = () => Runner.Run(cfg);
        act.Should().Throw<PinnException>().WithMessage("*lm: the loss of Kronecker GP*has a prior term with no residual vector for Levenberg*the GP's prior*adam, lbfgs*")
           .Which.Message.Should().NotContain("causal");
    }
}
