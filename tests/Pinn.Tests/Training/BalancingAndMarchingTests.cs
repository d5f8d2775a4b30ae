using Pinn.Config;
using Pinn.Problems;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Training;

[Collection("training")]
public class BalancingAndMarchingTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    sealed class FixedTerm(string name) : LossTerm(name, "pde", 1)
    {
        public override Tensor Loss(StepContext ctx) => throw new NotSupportedException();
    }

    [Fact]
    public void Gradient_norm_weights_equalise_the_terms_pull()
    {
        using var scope = NewDisposeScope();
        var p = new TorchSharp.Modules.Parameter(tensor(new[] { 1.0, 2.0 }, dtype: ScalarType.Float64));
        var a = new FixedTerm("a");
        var b = new FixedTerm("b");
        // ‖∇(3p₀)‖ = 3, ‖∇(p₁²)‖ = 2p₁ = 4: mean 3.5 → targets 3.5/3 and 3.5/4; α = 0 takes them as they are.
        GradNormBalancing.Update([(a, 3 * p[0]), (b, p[1].square())], [p], alpha: 0);
        a.Weight.Should().BeApproximately(3.5 / 3, 1e-12);
        b.Weight.Should().BeApproximately(3.5 / 4, 1e-12);
        // α = 0.9 moves 10% of the way from the current weight.
        GradNormBalancing.Update([(a, 3 * p[0]), (b, p[1].square())], [p], alpha: 0.9);
        a.Weight.Should().BeApproximately(3.5 / 3, 1e-12, "already at its target");
    }

    RunOutcome Heat(params string[] more) => Runner.Run(RunConfigLoader.Load("heat1d", ProblemCatalog.Instance,
        new[] { $"output.dir={_dir}", "training.steps=600", "model.layers=[32, 32]", "training.dtype=float64",
                "training.batch.pde=512", "training.eval_every=0", "training.log_every=100" }.Concat(Pinned.Overrides).Concat(more)));

    [Fact, Trait("Category", "Pinned"), Trait("Duration", "Long")]
    public void Time_marching_trains_every_window_and_evaluates_the_stitched_model()
    {
        var r = Heat("training.time_windows=3", "training.steps=2000", "output.name=march").Result;
        r.Status.Should().Be("completed");
        r.AdamSteps.Should().Be(3 * 2000);
        // Three 2000-step windows, 2×32, float64: a window that did not start from its predecessor's end,
        // or a wrong stitch, is O(1) on its third of the grid. Spread: see the class comment.
        // float64, spread over native AMD EPYC / MKL Intel AVX-512 / AVX2-only arithmetic × 1, 2 threads and seeds 0–4 (tests/spread/pinned.sh, 2026-12-01): 3.3e-3 … 6.6e-3; bound 3× the worst.
        Pinned.Below("time_marching", r.Error!.RelativeL2, 2e-2);
    }

    [Fact, Trait("Category", "Pinned")]
    public void Causal_and_balanced_run_logs_epsilon_min_weight_and_weights()
    {
        var o = Heat("training.causal={enabled: true, chunks: 8, epsilon: 1}", "training.balancing={kind: gradnorm, every: 100}",
                     "output.name=causal");
        o.Result.Status.Should().Be("completed");
        var header = File.ReadLines(Path.Combine(o.Directory, "log.csv")).First();
        header.Should().Contain("causal_eps").And.Contain("causal_min_w").And.Contain("weight_pde").And.Contain("weight_ic");
        // float64, spread over native AMD EPYC / MKL Intel AVX-512 / AVX2-only arithmetic × 1, 2 threads and seeds 0–4 (tests/spread/pinned.sh, 2026-12-01): 1.8e-2 … 4.0e-2; bound 5× the worst.
        Pinned.Below("causal_balanced", o.Result.Error!.RelativeL2, 0.2);
    }
}
