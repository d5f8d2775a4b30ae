using Pinn.Autodiff;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.Symbolic;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Autodiff;

/// <summary>
/// The fused order-≤ 2 jet path (one K×N×w tensor per layer, a hand-written activation backward) against
/// the generic jets and nested autograd: same values, same parameter gradients.
/// </summary>
public class FusedJetTests
{
    static readonly Axis[] Axes = [new("x", -1, 1), new("t", 0, 2)];
    static readonly string[] Coords = ["x", "t"];

    /// <summary>The tanh-MLP variants, plain and modified, take the fused path; sin keeps the generic jets (checked here too).</summary>
    public static TheoryData<string> Architectures() => ["mlp tanh", "mlp sin", "periodic x", "fourier", "factorized", "modified_mlp"];

    static ModelOptions Options(string arch) => arch switch
    {
        "mlp tanh" => new ModelOptions { Layers = [16, 13, 16] }, // 13: a width that is not a multiple of the SIMD width
        "mlp sin" => new ModelOptions { Layers = [16, 16], Activation = "sin" },
        "periodic x" => new ModelOptions { Layers = [16, 16], Periodic = new Dictionary<string, PeriodicAxisOptions> { ["x"] = new(Harmonics: 3) } },
        "fourier" => new ModelOptions { Layers = [16, 16], FourierFeatures = 8, FourierScale = 2 },
        "factorized" => new ModelOptions { Layers = [16, 16], WeightFactorization = (1.0, 0.1) },
        _ => new ModelOptions { Type = "modified_mlp", Layers = [16, 16] },
    };

    /// <summary>Every multi-index in (x, t) up to order 2: u, u_x, u_t, u_xx, u_xt, u_tt.</summary>
    static readonly string[][] UpToOrder2 = [[], ["x"], ["t"], ["x", "x"], ["x", "t"], ["t", "t"]];

    static IReadOnlyList<MultiIndex> SetOf(IEnumerable<string[]> wanted) =>
        MultiIndex.Closure(wanted.Select(w => MultiIndex.Of(w.Select(c => Array.IndexOf(Coords, c)))));

    static Tensor Points(int n, int seed)
    {
        using var g = new Generator((ulong)seed);
        return stack([rand(n, dtype: ScalarType.Float64, generator: g) * 2 - 1, rand(n, dtype: ScalarType.Float64, generator: g) * 2], 1).requires_grad_(true);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Fused_jets_equal_nested_autograd_in_values_and_parameter_gradients(string arch)
    {
        using var net = new NeuralField(Options(arch), Axes, outputDim: 2, seed: 4);
        net.to(ScalarType.Float64);
        using var scope = NewDisposeScope();
        var points = Points(37, seed: 21); // 37 × 16 elements: a ragged tail in every layer
        var set = SetOf(UpToOrder2);
        StackedLayout.For(set).Should().NotBeNull("an order-2 set takes the fused path");
        var jet = new JetFieldProvider(net, points, set, Coords, ["u", "v"], _ => throw new InvalidOperationException());
        var auto = new AutogradFieldProvider(points, net.Forward(points), Coords, ["u", "v"], _ => throw new InvalidOperationException());
        foreach (var field in new[] { "u", "v" })
            foreach (var wrt in UpToOrder2)
            {
                var d = new FieldDerivative(field, wrt);
                var a = auto.Field(d).detach();
                var j = jet.Field(d).detach();
                // Two float64 evaluations in different orders: ~1e-15 apart; a wrong coefficient shows at O(1).
                TensorChecks.RelativeMaxDifference(j, a).Should().BeLessThan(1e-10, $"{d} for {arch}");
            }

        // A Burgers-like loss mixing every block: its parameter gradients run through the hand-written backward.
        Tensor Loss(IFieldProvider p) =>
            (p.Field(new("u", ["t"])) + p.Field(new("u", [])) * p.Field(new("u", ["x"])) - 0.3 * p.Field(new("u", ["x", "x"]))
             + p.Field(new("v", ["x", "t"])) * p.Field(new("v", ["t", "t"]))).square().mean();
        var parameters = net.parameters().ToList<Tensor>();
        var viaFused = TensorChecks.Of(Loss(new JetFieldProvider(net, points, set, Coords, ["u", "v"], _ => throw new InvalidOperationException())), parameters);
        var viaAuto = TensorChecks.Of(Loss(new AutogradFieldProvider(points, net.Forward(points), Coords, ["u", "v"], _ => throw new InvalidOperationException())), parameters);
        for (int i = 0; i < parameters.Count; i++)
            TensorChecks.RelativeMaxDifference(viaFused[i], viaAuto[i]).Should().BeLessThan(1e-10, $"gradient of parameter {i} for {arch}");
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(1, 4)]
    [InlineData(2, 4)]
    [InlineData(2, 3)]
    public void The_fused_tanh_equals_the_generic_jet_rule_and_its_backward(int dims, int order)
    {
        // A jet in `dims` coordinates with every derivative up to `order`, 4099 × 33 elements per block: a
        // partial last tile, a width not aligned to the SIMD width (padded tiles), and for (2, 4) — 15 blocks,
        // 2M elements — a split over two threads.
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        var all = new List<MultiIndex> { MultiIndex.Zero };
        void Add(List<int> coords, int from)
        {
            if (coords.Count > 0) all.Add(MultiIndex.Of(coords));
            if (coords.Count == order) return;
            for (int i = from; i < dims; i++) Add([.. coords, i], i);
        }
        Add([], 0);
        var set = MultiIndex.Closure(all);
        var layout = StackedLayout.For(set)!;
        long n = 4099, w = 33;
        var z = randn(layout.Count, n, w, dtype: ScalarType.Float64, generator: g).mul_(1.5).requires_grad_(true);
        var bias = randn(w, dtype: ScalarType.Float64, generator: g).requires_grad_(true);
        var upstream = randn(layout.Count, n, w, dtype: ScalarType.Float64, generator: g);

        var fused = FusedTanhJet.Apply(z, bias, layout);
        var blocks = Enumerable.Range(0, layout.Count).ToDictionary(k => layout.Blocks[k], k => k == 0 ? z[k] + bias : z[k]);
        var generic = new Jet(set, blocks).Apply(Jet.TanhDerivatives);
        var reference = stack(layout.Blocks.Select(a => generic[a]!).ToList(), 0);
        // float64 sums of up to 5 chain-rule terms whose size grows like |z|^order: compare relative to the largest value.
        TensorChecks.RelativeMaxDifference(fused, reference).Should().BeLessThan(1e-13);

        var gf = autograd.grad([(fused * upstream).sum()], [z, bias]);
        var gr = autograd.grad([(reference * upstream).sum()], [z, bias]);
        TensorChecks.RelativeMaxDifference(gf[0], gr[0]).Should().BeLessThan(1e-13, "z̄");
        // b̄ sums 4099 rows: rounding grows with the sum's size.
        TensorChecks.RelativeMaxDifference(gf[1], gr[1]).Should().BeLessThan(1e-11, "b̄");
    }

    [Fact]
    public void A_value_only_batch_gets_a_plain_forward_pass_and_a_residual_batch_only_what_it_reads()
    {
        using var net = new NeuralField(new ModelOptions { Layers = [8] }, Axes, outputDim: 1, seed: 2);
        net.to(ScalarType.Float32);
        using var scope = NewDisposeScope();
        var points = Points(10, seed: 1).to(ScalarType.Float32);
        var set = SetOf(UpToOrder2); // what the whole problem needs
        var condition = new JetFieldProvider(net, points, set, Coords, ["u"], _ => throw new InvalidOperationException());
        var u = new TensorEvaluator(condition).Evaluate(ExprParser.ParseExpr("u + sin(x)", new SymbolTable(Coords, ["u"])));
        condition.Carried.Should().Equal([MultiIndex.Zero]);
        (u - net.Forward(points).squeeze(1) - points[TensorIndex.Colon, 0].sin()).abs().max().ToSingle().Should().BeLessThan(1e-6f);

        var residual = new JetFieldProvider(net, points, set, Coords, ["u"], _ => throw new InvalidOperationException());
        new TensorEvaluator(residual).Evaluate(ExprParser.ParseExpr("u_t + u*u_x - 0.01*u_xx", new SymbolTable(Coords, ["u"])));
        residual.Carried.Should().BeEquivalentTo(SetOf([["t"], ["x", "x"]]), "u_xt and u_tt are in the problem's set but not read here");
    }

    [Fact]
    public void Float32_fused_jets_agree_with_float64_to_single_precision()
    {
        using var net = new NeuralField(new ModelOptions { Layers = [32, 32] }, Axes, outputDim: 1, seed: 2);
        using var scope = NewDisposeScope();
        var set = SetOf(UpToOrder2);
        var p64 = Points(100, seed: 3);
        net.to(ScalarType.Float64);
        var exact = net.ForwardJet(p64.detach(), set);
        var want = layoutValues(exact, set);
        net.to(ScalarType.Float32);
        var single = net.ForwardJet(p64.detach().to(ScalarType.Float32), set);
        var got = layoutValues(single, set);
        for (int k = 0; k < want.Length; k++)
            TensorChecks.RelativeMaxDifference(got[k].to(ScalarType.Float64), want[k]).Should().BeLessThan(1e-4);

        static Tensor[] layoutValues(Jet jet, IReadOnlyList<MultiIndex> set) => set.Select(a => jet[a]!.detach()).ToArray();
    }
}
