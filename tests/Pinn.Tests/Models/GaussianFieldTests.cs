using Pinn.Autodiff;
using Pinn.Config;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.Problems;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Models;

/// <summary>The PIG model: its embedding against closed forms, the chunked and cut-off sums against the naive one, its size and its config.</summary>
[Collection("training")] // one test trains (5 Adam steps): training runs share libtorch's process-wide thread pool
public class GaussianFieldTests
{
    static readonly Axis[] Square = [new("x", -1, 1), new("y", 0, 2)];

    static GaussianField Model(GaussianFieldOptions o, Axis[]? axes = null, int seed = 1)
    {
        var m = new GaussianField(o, axes ?? Square, 1, seed);
        m.to(ScalarType.Float64);
        return m;
    }

    /// <summary>Spreads the scales (log σ += U(−spread, spread)) so axes and Gaussians differ, as after training.</summary>
    static void Perturb(GaussianField m, double spread, int seed, double weightScale = 1)
    {
        using var _ = no_grad();
        var g = new Generator((ulong)seed);
        var ls = m.get_parameter("log_scales")!;
        ls.add_((rand(ls.shape, dtype: ls.dtype, generator: g) * 2 - 1) * spread);
        var w = m.get_parameter("weights")!;
        w.copy_(randn(w.shape, dtype: w.dtype, generator: g) * weightScale);
    }

    static double[] Values(Tensor t) => t.detach().contiguous().data<double>().ToArray();

    [Fact]
    public void Embedding_and_its_first_and_second_derivatives_match_the_closed_forms()
    {
        using var scope = NewDisposeScope();
        var o = new GaussianFieldOptions { Channels = 2, Count = 5, InitScale = 0.3 };
        using var m = Model(o);
        Perturb(m, 0.5, 3);
        var pts = tensor(new double[,] { { 0.1, 0.4 }, { -0.7, 1.3 }, { 0.9, 1.9 } }, dtype: ScalarType.Float64).requires_grad_(true);
        var fe = m.Embed(pts, useCutoff: false);

        var mu = Values(m.get_parameter("means")!);
        var sigma = Values(m.get_parameter("log_scales")!.exp());
        var w = Values(m.get_parameter("weights")!);
        double[] lo = [-1, 0], width = [2, 2];
        for (int c = 0; c < o.Channels; c++)
        {
            var grad = autograd.grad([fe[TensorIndex.Colon, c].sum()], [pts], retain_graph: true, create_graph: true)[0];
            for (int j = 0; j < 2; j++)
            {
                var second = autograd.grad([grad[TensorIndex.Colon, j].sum()], [pts], retain_graph: true)[0];
                var p = Values(pts);
                var (v, d1, d2) = (Values(fe), Values(grad), Values(second));
                for (int n = 0; n < 3; n++)
                {
                    // Closed forms for FE_c = Σ_i w_i G_i, G_i = exp(−½ Σ_j ((x̂_j − μ_ij)/σ_ij)²), x̂ = (x − lo)/width (paper eq. 4):
                    // ∂FE/∂x_j = Σ w G·(−(x̂_j − μ_j)/σ_j²)/width_j,  ∂²FE/∂x_j² = Σ w G·((x̂_j − μ_j)²/σ_j⁴ − 1/σ_j²)/width_j².
                    double val = 0, g1 = 0, g2 = 0;
                    for (int i = c * o.Count; i < (c + 1) * o.Count; i++)
                    {
                        double q = 0;
                        for (int a = 0; a < 2; a++) q += Math.Pow(((p[n * 2 + a] - lo[a]) / width[a] - mu[i * 2 + a]) / sigma[i * 2 + a], 2);
                        double gi = w[i] * Math.Exp(-0.5 * q);
                        double dx = (p[n * 2 + j] - lo[j]) / width[j] - mu[i * 2 + j], s2 = sigma[i * 2 + j] * sigma[i * 2 + j];
                        val += gi;
                        g1 += gi * (-dx / s2) / width[j];
                        g2 += gi * (dx * dx / (s2 * s2) - 1 / s2) / (width[j] * width[j]);
                    }
                    // float64 sums of ten terms of size ≤ 1/σ⁴ ≈ 1e3: agreement to 1e-10 relative is rounding.
                    v[n * o.Channels + c].Should().BeApproximately(val, 1e-12);
                    d1[n * 2 + j].Should().BeApproximately(g1, 1e-10 * Math.Max(1, Math.Abs(g1)));
                    d2[n * 2 + j].Should().BeApproximately(g2, 1e-10 * Math.Max(1, Math.Abs(g2)));
                }
            }
        }
    }

    [Theory]
    [InlineData(2, 0.05, 0.0)]   // equal scales (as initialised)
    [InlineData(2, 0.05, 0.7)]   // scales spread ×2 either way: wide ones take the every-point path
    [InlineData(3, 0.08, 0.5)]   // (2+1)-D
    public void Chunked_and_cut_off_sums_equal_the_naive_sum(int dim, double scale, double spread)
    {
        using var scope = NewDisposeScope();
        var axes = new Axis[] { new("x", -1, 1), new("y", -4, 4), new("t", 0, 10) }[..dim];
        var naive = new GaussianFieldOptions { Channels = 4, Count = 300, InitScale = scale, ChunkSize = 1 << 20 };
        using var m = Model(naive, axes);
        Perturb(m, spread, 5);
        using var chunked = Model(naive with { ChunkSize = 97 }, axes);
        using var cut4 = Model(naive with { ChunkSize = 97, Cutoff = 4 }, axes);
        using var cut6 = Model(naive with { Cutoff = 6 }, axes);
        foreach (var other in new[] { chunked, cut4, cut6 }) other.load_state_dict(m.state_dict());

        var pts = (rand(1000, dim, dtype: ScalarType.Float64, generator: new Generator(9)) *
                   tensor(axes.Select(a => a.Length).ToArray(), dtype: ScalarType.Float64)) +
                  tensor(axes.Select(a => a.Min).ToArray(), dtype: ScalarType.Float64);
        var exact = m.Embed(pts);
        // Chunking only splits rows: identical up to summation order.
        (chunked.Embed(pts) - exact).abs().max().item<double>().Should().BeLessThan(1e-12);
        // A cut-off drops only Gaussians farther than c·σ along some axis; each dropped term is below
        // |w|·exp(−c²/2), so the error is at most Σ|w|·exp(−c²/2) per channel (weights here are N(0, 1)).
        double sumW = m.get_parameter("weights")!.abs().sum().item<double>();
        (cut4.Embed(pts) - exact).abs().max().item<double>().Should().BeLessThan(sumW * Math.Exp(-8));
        (cut6.Embed(pts) - exact).abs().max().item<double>().Should().BeLessThan(sumW * Math.Exp(-18));
        cut4.Embed(pts).abs().max().item<double>().Should().BeGreaterThan(0.1, "the sums are not trivially zero");
    }

    [Fact]
    public void Cut_off_derivatives_agree_with_the_naive_ones()
    {
        using var scope = NewDisposeScope();
        var o = new GaussianFieldOptions { Channels = 4, Count = 200, InitScale = 0.05 };
        using var m = Model(o);
        Perturb(m, 0.3, 7, weightScale: 0.1);
        using var cut = Model(o with { Cutoff = 6 });
        cut.load_state_dict(m.state_dict());
        var pts = (rand(300, 2, dtype: ScalarType.Float64, generator: new Generator(2)) * 2 - tensor(new[] { 1.0, 0.0 }, dtype: ScalarType.Float64))
            .requires_grad_(true);
        (Tensor, Tensor) Derivs(GaussianField f)
        {
            var u = f.Forward(pts);
            var g = autograd.grad([u.sum()], [pts], retain_graph: true, create_graph: true)[0];
            var gxx = autograd.grad([g[TensorIndex.Colon, 0].sum()], [pts], retain_graph: true)[0][TensorIndex.Colon, 0];
            return (g.detach(), gxx);
        }
        var (g0, h0) = Derivs(m);
        var (g1, h1) = Derivs(cut);
        // At 6σ dropped terms are ≤ e^{-18} ≈ 1.5e-8 of |w| (times (c/σ)² ≈ 1e4 for the second derivative).
        (g1 - g0).abs().max().item<double>().Should().BeLessThan(1e-6 * g0.abs().max().item<double>() + 1e-9);
        (h1 - h0).abs().max().item<double>().Should().BeLessThan(1e-5 * h0.abs().max().item<double>() + 1e-9);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(5.0)]
    public void Closed_form_jets_equal_nested_autograd_up_to_third_order(double? cutoff)
    {
        using var scope = NewDisposeScope();
        var o = new GaussianFieldOptions { Channels = 3, Count = 40, InitScale = 0.15, Cutoff = cutoff, ChunkSize = 23 };
        using var m = Model(o);
        Perturb(m, 0.4, 11, weightScale: 0.5);
        var pts = (rand(60, 2, dtype: ScalarType.Float64, generator: new Generator(4)) * 2 - tensor(new[] { 1.0, 0.0 }, dtype: ScalarType.Float64))
            .requires_grad_(true);
        string[][] wrts = [[], ["x"], ["y"], ["x", "x"], ["x", "y"], ["y", "y"], ["x", "x", "y"], ["y", "y", "y"]];
        var set = MultiIndex.Closure(wrts.Select(w => MultiIndex.Of(w.Select(c => c == "x" ? 0 : 1))).ToList());
        var jets = new JetFieldProvider(m, pts, set, ["x", "y"], ["u"], _ => throw new InvalidOperationException());
        var auto = new AutogradFieldProvider(pts, m.Forward(pts), ["x", "y"], ["u"], _ => throw new InvalidOperationException());
        foreach (var w in wrts)
        {
            var d = new Pinn.Symbolic.FieldDerivative("u", w);
            var a = auto.Field(d).detach();
            var j = jets.Field(d).detach();
            // Same float64 function by two routes (closed-form Hermite factors vs reverse passes): rounding only.
            (j - a).abs().max().item<double>().Should().BeLessThan(1e-9 * Math.Max(1, a.abs().max().item<double>()), $"∂ {string.Join("", w)}");
        }
    }

    [Fact]
    public void Auto_derivatives_pick_jets_for_diagonal_pig_only()
    {
        var problem = ProblemCatalog.Instance.Create("helmholtz2d")!;
        using var diag = Model(new GaussianFieldOptions(), [.. problem.Domain.Axes]);
        using var full = Model(new GaussianFieldOptions { Covariance = "full" }, [.. problem.Domain.Axes]);
        Pinn.Training.DerivativeEngine.JetSet("auto", diag, problem).Should().NotBeNull();
        Pinn.Training.DerivativeEngine.JetSet("auto", full, problem).Should().BeNull();
    }

    [Theory]
    [InlineData(4, 100, 2, "diagonal", 2097)] // k·N·(2d+1) + 97 (PAPERS.md §2)
    [InlineData(4, 100, 3, "diagonal", 2897)]
    [InlineData(4, 100, 2, "full", 2497)]     // + k·N·d(d−1)/2 shear entries
    [InlineData(2, 10, 3, "full", 2 * 10 * 10 + (2 * 16 + 16) + 17)]
    public void Parameter_count_follows_the_formula(int k, int n, int d, string covariance, long expected)
    {
        var o = new GaussianFieldOptions { Channels = k, Count = n, Covariance = covariance };
        var axes = Enumerable.Range(0, d).Select(i => new Axis("x" + i, 0, 1)).ToArray();
        using var m = Model(o, axes);
        GaussianField.CountParameters(o, d, 1).Should().Be(expected);
        ((IFieldModel)m).ParameterCount.Should().Be(expected);
    }

    [Fact]
    public void Full_covariance_with_zero_shear_is_the_diagonal_model_and_starts_from_it()
    {
        using var scope = NewDisposeScope();
        var o = new GaussianFieldOptions { Channels = 2, Count = 20 };
        using var diag = Model(o);
        Perturb(diag, 0.3, 4);
        using var full = Model(o with { Covariance = "full" }, seed: 99);
        full.InitialiseFrom(diag);
        var pts = rand(50, 2, dtype: ScalarType.Float64, generator: new Generator(5));
        (full.Forward(pts) - diag.Forward(pts)).abs().max().item<double>().Should().BeLessThan(1e-14);
        using (no_grad()) full.get_parameter("shear")!.fill_(0.5);
        (full.Forward(pts) - diag.Forward(pts)).abs().max().item<double>().Should().BeGreaterThan(1e-6, "the shear couples the axes");
    }

    [Fact]
    public void Gaussian_and_head_parameters_form_two_groups_with_their_own_learning_rate_scale()
    {
        using var m = Model(new GaussianFieldOptions { GaussianLrScale = 0.25 });
        var groups = ((IFieldModel)m).ParameterGroups;
        groups.Select(g => g.LrScale).Should().Equal(0.25, 1.0);
        groups.Sum(g => g.Parameters.Count).Should().Be(m.TrainableParameters.Count);
    }

    [Fact]
    public void Trainer_applies_each_groups_learning_rate_scale()
    {
        // gaussian_lr_scale = 0 freezes μ, σ and w while the head (scale 1) moves: the Trainer must set
        // every Adam group's lr to schedule × scale, not one lr for all.
        var problem = ProblemCatalog.Instance.Create("helmholtz2d")!;
        using var m = new GaussianField(new GaussianFieldOptions { Count = 20, GaussianLrScale = 0 }, problem.Domain.Axes, 1, 0);
        m.to(ScalarType.Float32);
        var before = m.TrainableParameters.Select(p => p.detach().clone()).ToList();
        var options = new Pinn.Training.TrainingOptions
        {
            Steps = 5, LearningRate = 1e-2, CheckpointEvery = 0, EvalEvery = 0,
            Batch = new Dictionary<string, int> { ["pde"] = 64, ["bc"] = 32 },
        };
        using (var trainer = new Pinn.Training.Trainer(problem, m, options, ScalarType.Float32, CPU))
            trainer.Train().Status.Should().Be("completed");
        var after = m.TrainableParameters;
        int gaussians = ((IFieldModel)m).ParameterGroups[0].Parameters.Count;
        for (int i = 0; i < after.Count; i++)
        {
            var moved = (after[i].detach() - before[i]).abs().max().item<float>();
            if (i < gaussians) moved.Should().Be(0, "Gaussian parameters have lr scale 0");
            else moved.Should().BeGreaterThan(0, "the head trains at the full rate");
        }
    }

    [Fact]
    public void Yaml_reads_the_gaussians_section_and_rejects_unknown_keys_with_file_and_line()
    {
        var dir = TestPaths.TempDir();
        try
        {
            var good = Path.Combine(dir, "pig.yaml");
            File.WriteAllText(good, "problem: helmholtz2d\nmodel:\n  type: pig\n  gaussians: {channels: 3, count: 50, cutoff: 4, gaussian_lr_scale: 2, head: [8, 8]}\n");
            var cfg = RunConfigLoader.Load(good, ProblemCatalog.Instance);
            cfg.Model.Gaussians.Should().BeEquivalentTo(new GaussianFieldOptions
            {
                Channels = 3, Count = 50, Cutoff = 4, GaussianLrScale = 2, Head = [8, 8],
            });
            RunConfigLoader.Load(good, ProblemCatalog.Instance, ["model.gaussians.cutoff=none"]).Model.Gaussians.Cutoff.Should().BeNull();

            var bad = Path.Combine(dir, "bad.yaml");
            File.WriteAllText(bad, "problem: helmholtz2d\nmodel:\n  type: pig\n  gaussians:\n    count: 50\n    cuttof: 4\n");
            var act = () => RunConfigLoader.Load(bad, ProblemCatalog.Instance);
            act.Should().Throw<PinnException>().WithMessage("*bad.yaml:6*cuttof*");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Bad_options_are_actionable_errors()
    {
        var act = () => new GaussianField(new GaussianFieldOptions { Covariance = "full", Cutoff = 4 }, Square, 1, 0);
        act.Should().Throw<PinnException>().WithMessage("*cutoff works with diagonal covariance only*");
        act = () => new GaussianField(new GaussianFieldOptions { InitScale = 0 }, Square, 1, 0);
        act.Should().Throw<PinnException>().WithMessage("*init_scale must be > 0*");
    }
}
