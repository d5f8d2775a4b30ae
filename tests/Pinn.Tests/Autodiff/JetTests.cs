using Pinn.Autodiff;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.Symbolic;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Autodiff;

/// <summary>Taylor-mode jets against nested autograd: the same derivatives, for every architecture.</summary>
public class JetTests
{
    static readonly Axis[] Axes = [new("x", -1, 1), new("t", 0, 2)];
    static readonly string[] Coords = ["x", "t"];

    public static TheoryData<string> Architectures() =>
        ["mlp tanh", "mlp sin", "modified_mlp", "periodic x", "fourier", "factorized", "modified periodic fourier"];

    static ModelOptions Options(string arch) => arch switch
    {
        "mlp tanh" => new ModelOptions { Layers = [16, 16, 16] },
        "mlp sin" => new ModelOptions { Layers = [16, 16], Activation = "sin" },
        "modified_mlp" => new ModelOptions { Type = "modified_mlp", Layers = [16, 16, 16] },
        "periodic x" => new ModelOptions { Layers = [16, 16], Periodic = new Dictionary<string, PeriodicAxisOptions> { ["x"] = new(Harmonics: 3) } },
        "fourier" => new ModelOptions { Layers = [16, 16], FourierFeatures = 8, FourierScale = 2 },
        "factorized" => new ModelOptions { Layers = [16, 16], WeightFactorization = (1.0, 0.1) },
        _ => new ModelOptions
        {
            Type = "modified_mlp", Layers = [16, 16], FourierFeatures = 6, WeightFactorization = (0.5, 0.1),
            Periodic = new Dictionary<string, PeriodicAxisOptions> { ["x"] = new(Harmonics: 2) },
        },
    };

    /// <summary>Every multi-index in (x, t) up to order 4: 15 of them, pure and mixed.</summary>
    static List<string[]> AllUpToOrder4()
    {
        var all = new List<string[]>();
        for (int order = 0; order <= 4; order++)
            for (int nx = order; nx >= 0; nx--)
                all.Add([.. Enumerable.Repeat("x", nx), .. Enumerable.Repeat("t", order - nx)]);
        return all;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Jets_equal_nested_autograd_for_every_derivative_up_to_order_4(string arch)
    {
        using var net = new NeuralField(Options(arch), Axes, outputDim: 2, seed: 3);
        net.to(ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var g = new Generator(11);
        var points = stack([rand(64, dtype: ScalarType.Float64, generator: g) * 2 - 1, rand(64, dtype: ScalarType.Float64, generator: g) * 2], 1).requires_grad_(true);
        var wanted = AllUpToOrder4();
        var set = MultiIndex.Closure(wanted.Select(w => MultiIndex.Of(w.Select(c => Array.IndexOf(Coords, c)))));
        var jet = new JetFieldProvider(net, points, set, Coords, ["u", "v"], _ => throw new InvalidOperationException());
        var auto = new AutogradFieldProvider(points, net.Forward(points), Coords, ["u", "v"], _ => throw new InvalidOperationException());
        foreach (var field in new[] { "u", "v" })
            foreach (var wrt in wanted)
            {
                var d = new FieldDerivative(field, wrt);
                var a = auto.Field(d).detach();
                var j = jet.Field(d).detach();
                double scale = Math.Max(1, a.abs().max().ToDouble());
                // Two exact float64 evaluations of the same derivative in different orders: rounding
                // grows with the order and the size of the terms; 1e-10 relative to the scale catches
                // any wrong coefficient or missing term (those show up at O(1)).
                (j - a).abs().max().ToDouble().Should().BeLessThan(1e-10 * scale, $"{d} for {arch}");
            }
    }

    [Fact]
    public void Parameter_gradients_through_jets_equal_those_through_autograd()
    {
        using var net = new NeuralField(Options("modified_mlp"), Axes, outputDim: 1, seed: 1);
        net.to(ScalarType.Float64);
        using var g = new Generator(5);
        var points = stack([rand(32, dtype: ScalarType.Float64, generator: g) * 2 - 1, rand(32, dtype: ScalarType.Float64, generator: g) * 2], 1).requires_grad_(true);
        var d = new FieldDerivative("u", ["x", "x", "t"]);
        var set = MultiIndex.Closure([MultiIndex.Of([0, 0, 1])]);
        // allow_unused inside TensorChecks.Of: the output bias does not reach u_xxt.
        Tensor[] Grads(IFieldProvider p) => TensorChecks.Of(p.Field(d).square().mean(), net.parameters().ToList<Tensor>());
        var viaJet = Grads(new JetFieldProvider(net, points, set, Coords, ["u"], _ => throw new InvalidOperationException()));
        var viaAuto = Grads(new AutogradFieldProvider(points, net.Forward(points), Coords, ["u"], _ => throw new InvalidOperationException()));
        for (int i = 0; i < viaJet.Length; i++)
            TensorChecks.RelativeMaxDifference(viaJet[i], viaAuto[i]).Should().BeLessThan(1e-10);
    }

    [Fact]
    public void Chain_rule_terms_match_Faa_di_Bruno_for_a_fourth_derivative()
    {
        // D⁴σ(z) = σ' z4 + 4σ'' z1 z3 + 3σ'' z2² + 6σ''' z1² z2 + σ'''' z1⁴ (15 = Bell(4) partitions).
        var terms = MultiIndex.Of([0, 0, 0, 0]).ChainRuleTerms();
        terms.Sum(t => t.Count).Should().Be(15);
        string Key((long Count, MultiIndex[] Factors) t) => $"{t.Count}:{string.Join("", t.Factors.Select(f => f.Order))}";
        terms.Select(Key).Should().BeEquivalentTo(["1:4", "4:13", "3:22", "6:112", "1:1111"]);
    }
}

/// <summary>The engine choice: auto takes jets from third order on, and both engines train identically.</summary>
[Collection("training")]
public class DerivativeEngineTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Auto_uses_jets_from_fourth_order_and_for_second_order_residuals_with_an_operator_block()
    {
        using var net = new NeuralField(new ModelOptions { Layers = [8] }, [new("x", 0, 1), new("t", 0, 1)], 1, 0);
        using var modified = new NeuralField(new ModelOptions { Type = "modified_mlp", Layers = [8] }, [new("x", 0, 1), new("t", 0, 1)], 1, 0);
        Pinn.Training.DerivativeEngine.JetSet("auto", net, new Pinn.Problems.KuramotoSivashinsky()).Should().NotBeNull();
        // u_t − ν u_xx as one block: jets carry 3 blocks instead of 4 and beat nested autograd (make bench, pinn suite).
        Pinn.Training.DerivativeEngine.JetSet("auto", net, new Pinn.Problems.Burgers1D()).Should().NotBeNull();
        Pinn.Training.DerivativeEngine.JetSet("auto", net, new Pinn.Problems.Burgers1D(), new Device(DeviceType.META)).Should().BeNull("the fused path is CPU-only");
        Pinn.Training.DerivativeEngine.JetSet("auto", modified, new Pinn.Problems.Burgers1D()).Should().NotBeNull("the modified MLP is fused too");
        using var sine = new NeuralField(new ModelOptions { Layers = [8], Activation = "sin" }, [new("x", 0, 1), new("t", 0, 1)], 1, 0);
        Pinn.Training.DerivativeEngine.JetSet("auto", sine, new Pinn.Problems.Burgers1D()).Should().BeNull("the fused kernels are written for tanh");
        Pinn.Training.DerivativeEngine.JetSet("auto", net, new Pinn.Problems.Poisson1D()).Should().BeNull("−u_xx = f: a single derivative, nothing to merge");
        Pinn.Training.DerivativeEngine.JetSet("jet", net, new Pinn.Problems.Burgers1D())!.Should().Contain(MultiIndex.Of([0, 0]));
    }

    [Fact]
    public void Training_with_jets_follows_training_with_autograd()
    {
        // One model (its initial weights restored before each run, which trains it in place), same
        // seeded batches, float64: the engines compute the same
        // derivatives to ~1e-13, so after 20 Adam steps the losses agree to far better than 1e-8.
        var cfg = Pinn.Config.RunConfigLoader.Load("ks", Pinn.Problems.ProblemCatalog.Instance,
            [$"output.dir={_dir}", "training.dtype=float64", "training.steps=20", "training.time_windows=1", "training.lbfgs_steps=0",
             "model.layers=[16, 16]", "training.batch.pde=256", "training.eval_every=0", "training.checkpoint_every=0"]);
        using var model = (NeuralField)ModelFactory.Create(cfg.Model, cfg.Problem, ScalarType.Float64, CPU, seed: 0);
        var initial = model.parameters().Select(p => p.detach().clone()).ToList();
        double Loss(string engine)
        {
            using (no_grad())
                foreach (var (p, v) in model.parameters().Zip(initial)) p.copy_(v);
            using var trainer = new Pinn.Training.Trainer(cfg.Problem, model, cfg.Training with { Derivatives = engine }, ScalarType.Float64, CPU);
            return trainer.Train().FinalLoss;
        }
        double jet = Loss("jet"), auto = Loss("autograd");
        jet.Should().BeApproximately(auto, 1e-8 * Math.Abs(auto));
    }

    [Fact]
    public void Jets_on_a_model_without_a_jet_rule_are_refused()
    {
        var problem = new Pinn.Problems.ProblemCatalog().Create("poisson1d_sin20")!;
        using var gp = new Pinn.Gp.GridGpField(new Pinn.Gp.GpOptions
        {
            Grid = new Dictionary<string, int> { ["*"] = 20 }, MaxFrequency = new Dictionary<string, double> { ["*"] = 1 },
        }, problem, ScalarType.Float64, CPU);
        var act = () => Pinn.Training.DerivativeEngine.JetSet("jet", gp, problem);
        act.Should().Throw<PinnException>().WithMessage("*jet*mlp*");
    }
}
