using Pinn.Config;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Training;

[Collection("training")]
public class LearnedPrecisionsTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static double Gradient(Tensor loss, Tensor s) => autograd.grad([loss], [s])[0].ToDouble();

    [Fact]
    public void The_precision_alone_is_optimal_at_the_inverse_mean_square()
    {
        using var scope = NewDisposeScope();
        using var p = new LearnedPrecisions(["pde", "bc"], ScalarType.Float64, CPU);
        var r = tensor(new[] { 0.3, -1.1, 0.02, 0.7, -0.45 }, dtype: ScalarType.Float64);
        double meanSquare = r.square().mean().ToDouble();
        // d/ds (½ e^s L − ½ s) = ½ (e^s L − 1) and d/ds (e^s/2 Σr² − n/2 s) = ½ (e^s Σr² − n): both vanish at τ = 1/mean(r²).
        using (no_grad()) p.LogPrecision("pde").fill_(-Math.Log(meanSquare));
        Gradient(p.Weigh("pde", r.square().mean()), p.LogPrecision("pde")).Should().BeApproximately(0, 1e-14);
        Gradient(p.NegativeLogLikelihood("pde", r), p.LogPrecision("pde")).Should().BeApproximately(0, 1e-13);
        p.Precision("pde").Should().BeApproximately(1 / meanSquare, 1e-12 / meanSquare);
        // at τ = 1 (s = 0) the same gradients are ½ (L − 1) and ½ (Σr² − n): not stationary
        Gradient(p.Weigh("bc", r.square().mean()), p.LogPrecision("bc")).Should().BeApproximately(0.5 * (meanSquare - 1), 1e-15);
        Gradient(p.NegativeLogLikelihood("bc", r), p.LogPrecision("bc")).Should().BeApproximately(0.5 * (5 * meanSquare - 5), 1e-14);
    }

    [Fact]
    public void One_residual_makes_the_likelihood_and_the_mean_square_weighting_the_same()
    {
        using var scope = NewDisposeScope();
        using var p = new LearnedPrecisions(["t"], ScalarType.Float64, CPU);
        using (no_grad()) p.LogPrecision("t").fill_(0.8);
        var r = tensor(new[] { -0.6 }, dtype: ScalarType.Float64);
        p.Weigh("t", r.square().mean()).ToDouble().Should().BeApproximately(p.NegativeLogLikelihood("t", r).ToDouble(), 1e-15);
        p.Parameters.Should().HaveCount(1);
        var act = () => p.LogPrecision("missing");
        act.Should().Throw<KeyNotFoundException>().WithMessage("*loss term 'missing'*");
    }

    [Fact]
    public void The_trainer_weighs_each_term_by_its_precision_and_trains_them_with_the_model()
    {
        var cfg = RunConfigLoader.Load("poisson1d", ProblemCatalog.Instance,
            ["training.dtype=float64", "model.layers=[8]", "training.balancing={kind: precision}", "training.weights={bc: 3}"]);
        using var model = ModelFactory.Create(cfg.Model, cfg.Problem, ScalarType.Float64, CPU);
        using var trainer = new Trainer(cfg.Problem, model, cfg.Training, ScalarType.Float64, CPU);
        var host = (Pinn.Training.Phases.IPhaseHost)trainer;
        host.Parameters.Should().HaveCount(model.TrainableParameters.Count + trainer.Terms.Count, "one log τ per term after the model's");
        host.ParameterGroups.SelectMany(g => g.Parameters).Should().HaveCount(host.Parameters.Count);
        var logTau = host.Parameters.Skip(model.TrainableParameters.Count).ToList();
        using (no_grad())
            for (int k = 0; k < logTau.Count; k++) logTau[k].fill_(0.3 * k - 0.4);
        trainer.DrawBatch();
        using var scope = NewDisposeScope();
        var ctx = trainer.NewContext();
        var (total, logged) = host.Loss(ctx);
        // Σ_k λ_k (½ τ_k L_k − ½ log τ_k), L_k the unweighted term as logged
        double expected = 0;
        for (int k = 0; k < trainer.Terms.Count; k++)
        {
            double s = 0.3 * k - 0.4, l = logged.Single(t => t.Name == trainer.Terms[k].Name).Value.ToDouble();
            expected += trainer.Terms[k].Weight * (0.5 * Math.Exp(s) * l - 0.5 * s);
        }
        total.ToDouble().Should().BeApproximately(expected, 1e-12 * Math.Abs(expected));
        trainer.PrecisionValues!.Values.Should().Equal(logTau.Select((_, k) => Math.Exp(0.3 * k - 0.4)));
    }

    [Fact]
    public void Residual_phases_refuse_precision_weighting_by_name()
    {
        var cfg = RunConfigLoader.Load("poisson1d", ProblemCatalog.Instance,
            [$"output.dir={_dir}", "output.name=lm-precision", "training.dtype=float64", "model.layers=[8]",
             "training.balancing={kind: precision}", "training.phases=[{lm: {steps: 2}}]"]);
        var act = () => Runner.Run(cfg);
        act.Should().Throw<PinnException>().WithMessage("*lm: training.balancing: {kind: precision}*not a square*adam, lbfgs or ssbroyden*");
    }

    [Fact]
    public void An_unknown_balancing_kind_lists_precision()
    {
        var act = () => RunConfigLoader.Load("poisson1d", ProblemCatalog.Instance, ["training.balancing={kind: uncertainty}"]);
        act.Should().Throw<PinnException>().WithMessage("*training.balancing.kind: unknown 'uncertainty' (use none, gradnorm or precision)*");
    }
}
